/**
 * The run's source of truth: one JSON line per finished sample, appended and fsynced before
 * anything else is derived from it. A torn last line (a crash mid-append) is cut off on open.
 */
import { dirname } from "node:path";
import { UserError } from "../errors.ts";
import { syncDir, writeAllSync } from "./atomic.ts";

/** The grader's verdict on one sample, as eval's Grader returns it. */
export interface Verdict {
  extracted: string;
  gold: string;
  correct: boolean;
  timeout: boolean;
  /** Grading failed with this message (then `correct` is false). */
  error?: string;
}

/** One finished, graded sample. */
export interface SampleRecord {
  /** Dataset row index (position in the whole data file, not in the --start/--end window). */
  row: number;
  /** Sample index, 0..num-runs-1 (prediction-<sample>.jsonl). */
  sample: number;
  /** The completion text, stop string removed. */
  output: string;
  reason: "stop" | "length";
  /** Number of generated tokens. */
  tokens: number;
  verdict: Verdict;
}

/** Key of a (row, sample) pair in maps. */
export function sampleKey(row: number, sample: number): string {
  return `${row}:${sample}`;
}

/** An open journal: the records read back on open, and an append-only handle. */
export class Journal {
  readonly path: string;
  /** Records in file order; the first record wins if a pair were ever written twice. */
  readonly records: Map<string, SampleRecord>;
  #file: Deno.FsFile | undefined;

  private constructor(path: string, records: Map<string, SampleRecord>, file: Deno.FsFile) {
    this.path = path;
    this.records = records;
    this.#file = file;
  }

  /** Opens (or creates) the journal at `path`, dropping a torn last line. */
  static open(path: string): Journal {
    const { records, validBytes, created } = readJournal(path);
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    if (file.statSync().size !== validBytes) {
      file.truncateSync(validBytes);
      file.syncSync();
    }
    file.seekSync(validBytes, Deno.SeekMode.Start);
    if (created) syncDir(dirname(path));
    return new Journal(path, records, file);
  }

  /** Appends one record and fsyncs it; returns false if the pair was already journalled. */
  append(record: SampleRecord): boolean {
    const key = sampleKey(record.row, record.sample);
    if (this.records.has(key)) return false;
    if (!this.#file) throw new Error(`Journal "${this.path}" is closed`);
    writeAllSync(this.#file, new TextEncoder().encode(JSON.stringify(record) + "\n"));
    this.#file.syncDataSync();
    this.records.set(key, record);
    return true;
  }

  /** Closes the file handle; safe to call twice. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Reads the records of a journal file without changing it (missing file: no records). */
export function readJournal(
  path: string,
): { records: Map<string, SampleRecord>; validBytes: number; created: boolean } {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { records: new Map(), validBytes: 0, created: true };
    }
    throw err;
  }
  const records = new Map<string, SampleRecord>();
  const decoder = new TextDecoder();
  let start = 0;
  let lineNumber = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    // No newline: the last append was cut short; everything from `start` is dropped.
    if (end < 0) break;
    lineNumber++;
    const record = parseRecord(decoder.decode(bytes.subarray(start, end)));
    // A malformed last line is a torn append too (a crash can leave garbage before the newline).
    if (!record && end + 1 >= bytes.length) break;
    if (!record) {
      throw new UserError(
        `Journal "${path}" line ${lineNumber} is not a sample record; delete that line (its sample will be redone) and rerun`,
      );
    }
    const key = sampleKey(record.row, record.sample);
    if (!records.has(key)) records.set(key, record);
    start = end + 1;
  }
  return { records, validBytes: start, created: false };
}

function parseRecord(line: string): SampleRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const v = r.verdict as Record<string, unknown> | undefined;
  const ok = Number.isInteger(r.row) && Number.isInteger(r.sample) &&
    typeof r.output === "string" && (r.reason === "stop" || r.reason === "length") &&
    Number.isInteger(r.tokens) && typeof v === "object" && v !== null &&
    typeof v.extracted === "string" && typeof v.gold === "string" &&
    typeof v.correct === "boolean" && typeof v.timeout === "boolean" &&
    (v.error === undefined || typeof v.error === "string");
  return ok ? value as SampleRecord : undefined;
}
