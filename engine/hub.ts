/**
 * Resolves a model argument to a folder on disk: a local Hugging Face model folder, or a hub id
 * `Org/Name` in the Hugging Face cache (hub_download.ts's ensureModel fetches it there first).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { UserError } from "./errors.ts";
import { type CacheEnv, cacheEnv, hubCacheDir } from "./cache_dirs.ts";

export { hubCacheDir };

/** A model folder that holds a config.json, and a short label for result folder names. */
export interface ResolvedModel {
  /** The argument as the user gave it. */
  arg: string;
  /** Absolute path of the folder holding config.json (a snapshot folder for hub ids). */
  path: string;
  /** Short name for results folders: the folder name, or `Name` of `Org/Name`. */
  label: string;
  /** `Org/Name` when the model came from the hub cache (or a path inside it). */
  hubId?: string;
  /** Snapshot revision (commit hash) when resolved from the hub cache. */
  revision?: string;
}

/** Environment the resolver reads (injectable for tests). */
export type HubEnv = CacheEnv;

/** A hub model id, Org/Name. */
export const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
const SNAPSHOT_PATH = /models--([^/]+)--([^/]+)\/snapshots\/([^/]+)\/?$/;

/**
 * Resolves `arg` (a folder, or a hub id looked up in the cache through refs/main) to a folder
 * with config.json. Throws a UserError naming every place tried and the fix.
 */
export function resolveModel(arg: string, env: HubEnv = cacheEnv()): ResolvedModel {
  if (arg.trim() === "") {
    throw new UserError("Model argument is empty; pass a model folder or a hub id Org/Name");
  }
  if (existsSync(arg)) {
    const path = resolve(arg);
    if (!statSync(path).isDirectory()) {
      throw new UserError(
        `Model "${arg}" is a file, not a folder; pass a Hugging Face model folder`,
      );
    }
    requireConfig(arg, path);
    const snapshot = SNAPSHOT_PATH.exec(path);
    if (snapshot) {
      const hubId = `${snapshot[1]}/${snapshot[2]}`;
      return { arg, path, label: snapshot[2], hubId, revision: snapshot[3] };
    }
    return { arg, path, label: basename(path) };
  }
  if (!HUB_ID.test(arg)) {
    throw new UserError(
      `Model folder "${arg}" does not exist; pass a Hugging Face model folder or a hub id Org/Name`,
    );
  }
  return resolveFromCache(arg, env);
}

function resolveFromCache(hubId: string, env: HubEnv): ResolvedModel {
  const [org, name] = hubId.split("/");
  const repoDir = join(hubCacheDir(env), `models--${org}--${name}`);
  const fix = `download it (huggingface-cli download ${hubId}) or pass a local model folder`;
  if (!existsSync(repoDir)) {
    throw new UserError(
      `Model "${hubId}" is neither a local folder nor in the Hugging Face cache ("${repoDir}" does not exist); ${fix}`,
    );
  }
  const revision = snapshotRevision(repoDir);
  if (!revision) {
    throw new UserError(
      `Model "${hubId}" has no usable snapshot in "${repoDir}" (no refs/main and not exactly one snapshot); ${fix}`,
    );
  }
  const path = join(repoDir, "snapshots", revision);
  if (!existsSync(path)) {
    throw new UserError(
      `Model "${hubId}": refs/main names snapshot "${revision}" but "${path}" is missing; ${fix}`,
    );
  }
  requireConfig(hubId, path);
  return { arg: hubId, path, label: name, hubId, revision };
}

/** The commit in refs/main, or the only snapshot folder when refs/main is absent. */
function snapshotRevision(repoDir: string): string | undefined {
  const ref = join(repoDir, "refs", "main");
  if (existsSync(ref)) return readFileSync(ref, "utf8").trim() || undefined;
  const snapshots = join(repoDir, "snapshots");
  if (!existsSync(snapshots)) return undefined;
  const revisions = readdirSync(snapshots);
  return revisions.length === 1 ? revisions[0] : undefined;
}

function requireConfig(arg: string, path: string): void {
  if (!existsSync(join(path, "config.json"))) {
    throw new UserError(
      `Model folder "${arg}" has no config.json; pass a Hugging Face model folder`,
    );
  }
}

/** A model folder's config.json vocab_size, or undefined when it has none (the load says why). */
export function configVocabSize(dir: string): number | undefined {
  try {
    const v = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")).vocab_size;
    return Number.isInteger(v) && v > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}
