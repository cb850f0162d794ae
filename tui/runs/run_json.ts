/**
 * run.json: every setting that decides a run's outputs (compared on resume), plus what is only
 * recorded (versions, engine placement, the command line).
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { UserError } from "../../engine/errors.ts";
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
  /** weightsSha256(): the weights' identity, so a folder reached by another path still resumes. */
  weightsSha256?: string;
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
  /** Set when the run is split into shards (tui/runs/shards.ts); absent when it is not. */
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

/** Bytes read from each end of a weights file's data: a fine-tune shares the base's header. */
const WEIGHTS_SAMPLE_BYTES = 64 * 1024;

/**
 * sha256 over every *.safetensors file of a model folder (by name): its name, size, header and
 * the first and last 64 KiB of its tensor data. Headers alone cannot tell a model from its
 * fine-tune (same names, shapes and offsets); the sampled data can, and reading it costs
 * milliseconds where hashing a 28 GB checkpoint would cost minutes.
 */
export function weightsSha256(modelDir: string): string {
  const hash = createHash("sha256");
  const files = readdirSync(modelDir).filter((f) => f.endsWith(".safetensors")).sort();
  for (const name of files) {
    const fd = openSync(join(modelDir, name), "r");
    try {
      const size = fstatSync(fd).size;
      const read = (length: number, at: number) => {
        const buf = new Uint8Array(Math.max(0, Math.min(length, size - at)));
        if (buf.length) readSync(fd, buf, 0, buf.length, at);
        return buf;
      };
      const prefix = read(8, 0);
      const headerLength = prefix.length === 8
        ? Number(new DataView(prefix.buffer).getBigUint64(0, true))
        : 0;
      const dataStart = Math.min(size, 8 + headerLength);
      hash.update(`${name}\0${size}\0`);
      hash.update(read(dataStart, 0));
      hash.update(read(WEIGHTS_SAMPLE_BYTES, dataStart));
      hash.update(read(WEIGHTS_SAMPLE_BYTES, Math.max(dataStart, size - WEIGHTS_SAMPLE_BYTES)));
    } finally {
      closeSync(fd);
    }
  }
  return hash.digest("hex");
}

/**
 * Settings as compared on resume: a model is its config and weights hashes, wherever it lives
 * (a symlink, another mount, a hub id vs its snapshot folder), so its path, hub id and revision
 * drop out and a difference names the hash; records made before weightsSha256 compare by path.
 */
function comparable(there: RunSettings, here: RunSettings): [RunSettings, RunSettings] {
  const models = (
    s: RunSettings,
  ) => [s.baseModel, ...s.pairs.flatMap((p) => [p.positive, p.negative])];
  const a = structuredClone(there);
  const b = structuredClone(here);
  const [ma, mb] = [models(a), models(b)];
  for (let i = 0; i < Math.min(ma.length, mb.length); i++) {
    if (ma[i].weightsSha256 === undefined || mb[i].weightsSha256 === undefined) continue;
    for (const m of [ma[i], mb[i]]) {
      delete (m as Partial<ModelRecord>).path;
      delete m.hubId;
      delete m.revision;
    }
  }
  if (ma.every((m) => m.weightsSha256 !== undefined) || mb.length === 0) return [a, b];
  // an older run.json: compare what it recorded, not a field it never had
  for (const m of mb) delete m.weightsSha256;
  for (const m of ma) delete m.weightsSha256;
  return [a, b];
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
    // Locks and a run.json being written by another shard hold no results (writeRunRecordOnce
    // writes run.json.tmp-PID through its own temporary, run.json.tmp-PID.tmp-PID).
    const holdsResults = (name: string) =>
      name !== LOCK_FILE && !isShardLockName(name) &&
      !/^run\.json\.tmp-\d+(\.tmp-\d+)?$/.test(name);
    if (!readdirSync(dir).some(holdsResults)) return undefined;
    throw new UserError(
      `Run folder "${dir}" has files but no run.json, so rast cannot tell how they were made; pass another --output-dir or empty the folder`,
    );
  }
  const record = readRunRecord(runJson);
  const diff = settingsDifference(
    ...comparable({ ...record.settings, numRuns: settings.numRuns }, settings),
  );
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
