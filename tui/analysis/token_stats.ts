/**
 * Per-token records of a run (`--save-stats`): for every finished sample one JSON line in
 * `token-stats-<sample>.jsonl` beside `prediction-<sample>.jsonl`, holding column arrays over the
 * generated tokens (ids, base and combined log-probs, deltas, the base's argmax, both entropies).
 * Lines are appended as samples finish, in finishing order; a sample redone after a crash appears
 * twice and the last line wins, since that is the one its journal record describes.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent, StepStats } from "../../engine/events.ts";
import { requireStats } from "../../engine/events.ts";
import { UserError } from "../../engine/errors.ts";

/** One sample's generated tokens, one array entry per token. */
export interface TokenStatsRecord {
  row: number;
  sample: number;
  /** The row's difficulty level (math500's `level`), when the dataset has one. */
  level?: string;
  ids: number[];
  /** The text each token event carried ("" while a UTF-8 sequence was incomplete). */
  pieces: string[];
  baseLogprob: number[];
  combinedLogprob: number[];
  delta: number[];
  /** The base model's own argmax at each step: the step kept the base's path when it equals ids[i]. */
  baseArgmax: number[];
  baseEntropy: number[];
  combinedEntropy: number[];
}

/** The file of sample index `sample` in run folder `dir`. */
export function tokenStatsPath(dir: string, sample: number): string {
  return join(dir, `token-stats-${sample}.jsonl`);
}

/** float32 values keep 7 significant digits; −∞ (a token outside the base's support) is null. */
function compact(x: number): number | null {
  return Number.isFinite(x) ? Number(x.toPrecision(7)) : null;
}

const COLUMNS = [
  "baseLogprob",
  "combinedLogprob",
  "delta",
  "baseEntropy",
  "combinedEntropy",
] as const satisfies readonly (keyof StepStats & keyof TokenStatsRecord)[];

/**
 * Collects token events per sample and appends the sample's record when it finishes (not when it
 * is cancelled: a cancelled sample is redone from scratch on resume).
 */
export class TokenStatsRecorder {
  readonly #dir: string;
  readonly #levels: ReadonlyMap<number, string>;
  readonly #open = new Map<string, TokenStatsRecord>();

  constructor(dir: string, opts: { levels?: ReadonlyMap<number, string> } = {}) {
    this.#dir = dir;
    this.#levels = opts.levels ?? new Map();
  }

  /** Takes one engine event; writes a line on a sample's `finished`. */
  event(event: EngineEvent): void {
    if (event.kind !== "token" && event.kind !== "finished") return;
    const key = `${event.request}:${event.sample}`;
    if (event.kind === "finished") {
      const record = this.#open.get(key);
      this.#open.delete(key);
      if (event.reason === "cancelled") return;
      const done = record ?? this.#fresh(event.request, event.sample);
      appendFileSync(tokenStatsPath(this.#dir, event.sample), recordLine(done));
      return;
    }
    let record = this.#open.get(key);
    if (!record) this.#open.set(key, record = this.#fresh(event.request, event.sample));
    record.ids.push(event.id);
    record.pieces.push(event.text);
    const stats = requireStats(event.stats);
    record.baseArgmax.push(stats.baseArgmax);
    for (const column of COLUMNS) record[column].push(stats[column]);
  }

  #fresh(row: number, sample: number): TokenStatsRecord {
    const level = this.#levels.get(row);
    return {
      row,
      sample,
      ...(level === undefined ? {} : { level }),
      ids: [],
      pieces: [],
      baseLogprob: [],
      combinedLogprob: [],
      delta: [],
      baseArgmax: [],
      baseEntropy: [],
      combinedEntropy: [],
    };
  }
}

/** Passes `events` through unchanged, feeding each to `recorder` first. */
export async function* recordTokenStats<T extends EngineEvent>(
  events: AsyncIterable<T>,
  recorder: TokenStatsRecorder,
): AsyncGenerator<T> {
  for await (const event of events) {
    recorder.event(event);
    yield event;
  }
}

function recordLine(record: TokenStatsRecord): string {
  const line: Record<string, unknown> = { ...record };
  for (const column of COLUMNS) line[column] = record[column].map(compact);
  return JSON.stringify(line) + "\n";
}

/**
 * Every token-stats record of the run in `dir`, keyed "row:sample" (last line wins). A torn last
 * line (a crash mid-append) is skipped; any other bad line is an error naming the file.
 */
export function readTokenStats(dir: string): Map<string, TokenStatsRecord> {
  const records = new Map<string, TokenStatsRecord>();
  if (!existsSync(dir)) return records;
  const files = readdirSync(dir).filter((f) => /^token-stats-\d+\.jsonl$/.test(f)).sort();
  for (const file of files) {
    const lines = readFileSync(join(dir, file), "utf8").split("\n");
    const torn = lines.at(-1) !== "";
    lines.forEach((line, i) => {
      if (line === "") return;
      const record = parseRecord(line);
      if (record) records.set(`${record.row}:${record.sample}`, record);
      else if (!(torn && i === lines.length - 1)) {
        throw new UserError(
          `"${join(dir, file)}" line ${
            i + 1
          } is not a token-stats record; delete the file and rerun with --save-stats`,
        );
      }
    });
  }
  return records;
}

function parseRecord(line: string): TokenStatsRecord | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  if (!Number.isInteger(value.row) || !Number.isInteger(value.sample)) return undefined;
  const ids = value.ids;
  if (!Array.isArray(ids)) return undefined;
  const sameLength = (v: unknown) => Array.isArray(v) && v.length === ids.length;
  const columns = ["pieces", "baseArgmax", ...COLUMNS];
  if (!columns.every((c) => sameLength(value[c]))) return undefined;
  const record = value as unknown as TokenStatsRecord;
  for (const column of COLUMNS) {
    record[column] = (value[column] as (number | null)[]).map((x) => x ?? -Infinity);
  }
  return record;
}
