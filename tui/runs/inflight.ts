/**
 * Checkpoints of samples still being decoded (inflight.jsonl), so a killed run resumes them
 * mid-sample instead of from token 0. Each line adds the tokens a sample generated since its
 * last line: `{"row", "sample", "from", "tokens"}` (`from`: how many it had before them), appended
 * and fsynced like the journal. A sample the journal holds no longer needs its checkpoint; on
 * open the file is rewritten (atomically) with one line per sample still pending.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { syncDir, writeAllSync, writeTextAtomicSync } from "./atomic.ts";
import { sampleKey } from "./journal.ts";

/** One checkpoint line. */
interface InflightLine {
  row: number;
  sample: number;
  from: number;
  tokens: number[];
}

/** The tokens so far of every checkpointed sample, by sampleKey. */
export type InflightTokens = Map<string, { row: number; sample: number; tokens: number[] }>;

/** The checkpoint file of a run open for appending. */
export class InflightLog {
  readonly path: string;
  /** Tokens so far of the samples read back on open (and not journalled). */
  readonly restored: InflightTokens;
  #file: Deno.FsFile | undefined;

  private constructor(path: string, restored: InflightTokens, file: Deno.FsFile) {
    this.path = path;
    this.restored = restored;
    this.#file = file;
  }

  /**
   * Opens (or creates) the checkpoints at `path`, keeping those of samples `isDone` says are
   * not journalled, compacted to one line each.
   */
  static open(path: string, isDone: (row: number, sample: number) => boolean): InflightLog {
    const read = readInflight(path);
    for (const [key, entry] of read) if (isDone(entry.row, entry.sample)) read.delete(key);
    const compact = [...read.values()].map((e) => lineText({ ...e, from: 0 })).join("");
    const existed = existsSync(path);
    // A finished run's folder is left as it is.
    if (existed && readFileSync(path, "utf8") !== compact) writeTextAtomicSync(path, compact);
    const file = Deno.openSync(path, { append: true, create: true });
    if (!existed) syncDir(dirname(path));
    return new InflightLog(path, read, file);
  }

  /** Appends these lines (each: the tokens of a sample after its first `from`), one fsync. */
  append(lines: InflightLine[]): void {
    if (!this.#file) throw new Error(`Checkpoint file "${this.path}" is closed`);
    if (lines.length === 0) return;
    writeAllSync(this.#file, new TextEncoder().encode(lines.map(lineText).join("")));
    this.#file.syncDataSync();
  }

  /** Closes the file handle; safe to call twice. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}

/** Milliseconds between checkpoints of the samples in flight (RAST_CHECKPOINT_MS overrides). */
export const CHECKPOINT_INTERVAL_MS = Number(Deno.env.get("RAST_CHECKPOINT_MS")) > 0
  ? Number(Deno.env.get("RAST_CHECKPOINT_MS"))
  : 2000;

/**
 * Follows the engine's events and appends, at most every CHECKPOINT_INTERVAL_MS, the tokens
 * each sample in flight generated since its last checkpoint.
 */
export class Checkpointer {
  readonly #log: InflightLog;
  readonly #samples = new Map<
    string,
    { row: number; sample: number; tokens: number[]; saved: number }
  >();
  #lastFlush = performance.now();

  constructor(log: InflightLog) {
    this.#log = log;
  }

  /** A sample started (with the tokens it restored, already on disk). */
  started(row: number, sample: number): void {
    const key = sampleKey(row, sample);
    const tokens = [...(this.#log.restored.get(key)?.tokens ?? [])];
    this.#samples.set(key, { row, sample, tokens, saved: tokens.length });
  }

  token(row: number, sample: number, id: number): void {
    this.#samples.get(sampleKey(row, sample))?.tokens.push(id);
  }

  /** The sample finished or failed: nothing more to checkpoint. */
  ended(row: number, sample: number): void {
    this.#samples.delete(sampleKey(row, sample));
  }

  /** Writes the new tokens when the interval has passed (or `now` is forced). */
  flush(force = false): void {
    const now = performance.now();
    if (!force && now - this.#lastFlush < CHECKPOINT_INTERVAL_MS) return;
    this.#lastFlush = now;
    const lines: InflightLine[] = [];
    for (const s of this.#samples.values()) {
      if (s.tokens.length === s.saved) continue;
      lines.push({ row: s.row, sample: s.sample, from: s.saved, tokens: s.tokens.slice(s.saved) });
      s.saved = s.tokens.length;
    }
    this.#log.append(lines);
  }
}

function lineText(line: InflightLine): string {
  return JSON.stringify(line) + "\n";
}

/**
 * Reads the checkpoints in `path` (none when it is missing). A line that does not continue its
 * sample's tokens exactly (`from` past what is known) drops that sample's checkpoint, which
 * then restarts from token 0; a torn or malformed line is skipped: a checkpoint is only ever
 * an optimisation.
 */
export function readInflight(path: string): InflightTokens {
  const out: InflightTokens = new Map();
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return out;
    throw err;
  }
  const broken = new Set<string>();
  const lines = text.split("\n");
  // The part after the last newline is a torn append.
  lines.pop();
  for (const raw of lines) {
    const line = parseLine(raw);
    if (!line) continue;
    const key = sampleKey(line.row, line.sample);
    if (broken.has(key)) continue;
    const entry = out.get(key) ?? { row: line.row, sample: line.sample, tokens: [] };
    if (line.from > entry.tokens.length) {
      broken.add(key);
      out.delete(key);
      continue;
    }
    entry.tokens = [...entry.tokens.slice(0, line.from), ...line.tokens];
    out.set(key, entry);
  }
  return out;
}

function parseLine(raw: string): InflightLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const ok = Number.isInteger(r.row) && Number.isInteger(r.sample) && Number.isInteger(r.from) &&
    (r.from as number) >= 0 && Array.isArray(r.tokens) &&
    r.tokens.every((t) => Number.isInteger(t) && t >= 0);
  return ok ? value as InflightLine : undefined;
}
