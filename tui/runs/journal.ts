/**
 * The run's source of truth: one JSON line per finished sample, appended and fsynced before
 * anything else is derived from it. A torn last line (a crash mid-append) is cut off on open.
 */
import { dirname } from "node:path";
import { UserError } from "../../engine/errors.ts";
import { syncDir, writeAllSync } from "./atomic.ts";
import { sampleKey } from "../../engine/events.ts";
import type { Verdict } from "../../datasets/grading/mod.ts";

// A record's verdict is the grader's; its key the engine's (rows are the requests).
export { sampleKey };
export type { Verdict };

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

/**
 * A sample the engine gave up on (e.g. non-finite logits): journalled so the failure is on
 * record, never counted as done; a rerun redoes it, and a later record supersedes it.
 */
export interface FailureRecord {
  row: number;
  sample: number;
  failed: string;
}

/** An open journal: the records read back on open, and an append-only handle. */
export class Journal {
  readonly path: string;
  /** Records in file order; the first record wins if a pair were ever written twice. */
  readonly records: Map<string, SampleRecord>;
  /** Failures of samples with no record (the last failure of each pair). */
  readonly failures: Map<string, FailureRecord>;
  #file: Deno.FsFile | undefined;
  /** Bytes of whole lines in the file. */
  #size: number;

  private constructor(path: string, read: JournalContents, file: Deno.FsFile) {
    this.path = path;
    this.records = read.records;
    this.failures = read.failures;
    this.#file = file;
    this.#size = read.validBytes;
  }

  /** Opens (or creates) the journal at `path`, dropping a torn last line. */
  static open(path: string): Journal {
    const read = readJournal(path);
    // A torn tail is cut through a read-write handle first; appends then go through an
    // append-only one, so no write can land anywhere but the end.
    if (!read.created) {
      const file = Deno.openSync(path, { read: true, write: true });
      try {
        if (file.statSync().size !== read.validBytes) {
          file.truncateSync(read.validBytes);
          file.syncSync();
        }
      } finally {
        file.close();
      }
    }
    const file = Deno.openSync(path, { append: true, create: true });
    if (read.created) syncDir(dirname(path));
    return new Journal(path, read, file);
  }

  /** Appends one record and fsyncs it; returns false if the pair was already journalled. */
  append(record: SampleRecord): boolean {
    const key = sampleKey(record.row, record.sample);
    if (this.records.has(key)) return false;
    this.#write(record);
    this.records.set(key, record);
    this.failures.delete(key);
    return true;
  }

  /** Journals a failed sample (fsynced); it stays pending. */
  appendFailure(failure: FailureRecord): void {
    const key = sampleKey(failure.row, failure.sample);
    if (this.records.has(key)) return;
    this.#write(failure);
    this.failures.set(key, failure);
  }

  /**
   * Appends one line and fsyncs it. A failed write (a full disk) is cut back off and closes the
   * journal, so a torn line can never sit before later ones.
   */
  #write(line: SampleRecord | FailureRecord): void {
    if (!this.#file) throw new Error(`Journal "${this.path}" is closed`);
    const bytes = new TextEncoder().encode(JSON.stringify(line) + "\n");
    try {
      writeAllSync(this.#file, bytes);
      this.#file.syncDataSync();
      this.#size += bytes.length;
    } catch (err) {
      try {
        this.#file.truncateSync(this.#size);
      } catch {
        // The torn tail stays; the next open cuts it (it is the last line).
      }
      this.close();
      throw err;
    }
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

/** What a journal file holds, and how many of its bytes are whole lines. */
export interface JournalContents {
  records: Map<string, SampleRecord>;
  failures: Map<string, FailureRecord>;
  validBytes: number;
  created: boolean;
}

/** Reads the records of a journal file without changing it (missing file: no records). */
export function readJournal(path: string): JournalContents {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return { records: new Map(), failures: new Map(), validBytes: 0, created: true };
    }
    throw err;
  }
  const records = new Map<string, SampleRecord>();
  const failures = new Map<string, FailureRecord>();
  const decoder = new TextDecoder();
  let start = 0;
  let lineNumber = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    // No newline: the last append was cut short; everything from `start` is dropped.
    if (end < 0) break;
    lineNumber++;
    const line = decoder.decode(bytes.subarray(start, end));
    const record = parseRecord(line) ?? parseFailure(line);
    // A malformed last line is a torn append too (a crash can leave garbage before the newline).
    if (!record && end + 1 >= bytes.length) break;
    if (!record) {
      throw new UserError(
        `Journal "${path}" line ${lineNumber} is not a sample record; delete that line (its sample will be redone) and rerun`,
      );
    }
    const key = sampleKey(record.row, record.sample);
    if ("failed" in record) {
      if (!records.has(key)) failures.set(key, record);
    } else if (!records.has(key)) {
      records.set(key, record);
      failures.delete(key);
    }
    start = end + 1;
  }
  return { records, failures, validBytes: start, created: false };
}

function parseFailure(line: string): FailureRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const ok = Number.isInteger(r.row) && Number.isInteger(r.sample) && typeof r.failed === "string";
  return ok
    ? { row: r.row as number, sample: r.sample as number, failed: r.failed as string }
    : undefined;
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
