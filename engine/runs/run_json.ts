/**
 * run.json: every setting that decides a run's outputs (compared on resume), plus what is only
 * recorded (versions, engine placement, the command line).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { UserError } from "../errors.ts";
import { syncDir, writeTextAtomic } from "./atomic.ts";
import { isShardLockName, type ShardingRecord } from "./shards.ts";
import { LOCK_FILE } from "./lock.ts";

/** A model as run.json records it. */
export interface ModelRecord {
  path: string;
  label: string;
  hubId?: string;
  revision?: string;
  /** sha256 of the folder's config.json. */
  configSha256: string;
}

/** The settings two runs must share to be the same run (compared field by field on resume). */
export interface RunSettings {
  dataset: {
    name: string;
    /** sha256 over the window's rows (index, question, gold). */
    rowsSha256: string;
    /** The window of data rows, [start, end), in data file order. */
    start: number;
    end: number;
  };
  baseModel: ModelRecord;
  pairs: { positive: ModelRecord; negative: ModelRecord; weight: number }[];
  promptTemplate: string;
  /** sha256 over every rendered prompt, so an edited template file or chat template shows up. */
  promptsSha256: string;
  temperature: number;
  topP: number;
  maxTokens: number;
  numRuns: number;
  seed: number;
  stopStrings: string[];
  stopIds: number[];
}

/** The whole run.json. */
export interface RunRecord {
  format: 1;
  settings: RunSettings;
  seeds: { seed: number; rule: string; rows: Record<string, number> };
  engine: { tensorParallelSize: number; dtype?: string; device?: string; maxConcurrent?: number };
  versions: { rast: string; deno: string; v8: string; typescript: string };
  command: string[];
  createdAt: string;
  /** Set when the run is split into shards (engine/runs/shards.ts); absent when it is not. */
  sharding?: ShardingRecord;
}

/** sha256 of a string or bytes, hex. */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256 of `<dir>/config.json`. */
export function configSha256(modelDir: string): string {
  return sha256(readFileSync(join(modelDir, "config.json")));
}

/**
 * The first setting that differs, as "name: A there, B here", or undefined when equal.
 * `there` is the run.json on disk, `here` the command being run.
 */
export function settingsDifference(there: unknown, here: unknown, path = ""): string | undefined {
  if (Object.is(there, here)) return undefined;
  const bothObjects = typeof there === "object" && there !== null && typeof here === "object" &&
    here !== null && Array.isArray(there) === Array.isArray(here);
  if (!bothObjects) return `${path || "settings"}: ${show(there)} there, ${show(here)} here`;
  if (Array.isArray(there) && Array.isArray(here) && there.length !== here.length) {
    return `${path}: ${show(there)} there, ${show(here)} here`;
  }
  const a = there as Record<string, unknown>;
  const b = here as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const key of keys) {
    const sub = Array.isArray(there) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    const diff = settingsDifference(a[key], b[key], sub);
    if (diff) return diff;
  }
  return undefined;
}

function show(value: unknown): string {
  const text = value === undefined ? "unset" : JSON.stringify(value);
  return text.length > 80 ? text.slice(0, 77) + "..." : text;
}

/**
 * Checks that `dir` may hold a run with `settings`: absent, empty, or holding a run.json with the
 * same settings but perhaps another numRuns (a run grows, or reports on its first n samples).
 * Returns the existing record, if any. Writes nothing.
 */
export function checkRunFolder(dir: string, settings: RunSettings): RunRecord | undefined {
  if (!existsSync(dir)) return undefined;
  const runJson = join(dir, "run.json");
  if (!existsSync(runJson)) {
    // Locks and a run.json being written by another shard hold no results.
    const holdsResults = (name: string) =>
      name !== LOCK_FILE && !isShardLockName(name) && !/^run\.json\.tmp-\d+$/.test(name);
    if (!readdirSync(dir).some(holdsResults)) return undefined;
    throw new UserError(
      `Run folder "${dir}" has files but no run.json, so rast cannot tell how they were made; pass another --output-dir or empty the folder`,
    );
  }
  const record = readRunRecord(runJson);
  const diff = settingsDifference({ ...record.settings, numRuns: settings.numRuns }, settings);
  if (diff) {
    throw new UserError(
      `Run folder "${dir}" was made with other settings (${diff}); pass another --output-dir or remove the folder`,
    );
  }
  return record;
}

/** Reads and shape-checks a run.json. */
export function readRunRecord(path: string): RunRecord {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new UserError(`Cannot read "${path}" (${why}); remove the run folder to start over`);
  }
  const record = value as Partial<RunRecord> | null;
  if (!record || record.format !== 1 || typeof record.settings !== "object") {
    throw new UserError(
      `"${path}" is not a rast run.json (format 1); pass another --output-dir or remove the folder`,
    );
  }
  return record as RunRecord;
}

/** Writes run.json atomically. */
export async function writeRunRecord(path: string, record: RunRecord): Promise<void> {
  await writeTextAtomic(path, JSON.stringify(record, null, 2) + "\n");
}

/**
 * Writes run.json unless one is there already (first writer wins, atomically: the complete file
 * is hard-linked into place, which fails if the name exists). Returns whether this call wrote it.
 */
export async function writeRunRecordOnce(path: string, record: RunRecord): Promise<boolean> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  await writeTextAtomic(tmp, JSON.stringify(record, null, 2) + "\n");
  try {
    Deno.linkSync(tmp, path);
    syncDir(dirname(path));
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    throw err;
  } finally {
    Deno.removeSync(tmp);
  }
}

/** rast's version (git describe of the checkout when available), Deno's, V8's, TypeScript's. */
export function versions(): RunRecord["versions"] {
  return { rast: rastVersion(), ...Deno.version };
}

function rastVersion(): string {
  try {
    const repo = new URL("../..", import.meta.url).pathname;
    const out = new Deno.Command("git", {
      args: ["-C", repo, "describe", "--always", "--dirty"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "unknown";
  } catch {
    return "unknown";
  }
}
