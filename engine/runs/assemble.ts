/**
 * Assembling a sharded run: under the folder's lock (held only for this), every shard's
 * journal is read; when each holds all of its rows × numRuns samples, the prediction files,
 * verdicts.jsonl and metrics.json are written exactly as an unsharded run writes them. Each
 * shard tries this as it finishes, so the last one to finish assembles; `eval` can too.
 */
import type { Metrics } from "../eval/mod.ts";
import { readJournal, sampleKey, type SampleRecord } from "./journal.ts";
import { RunLock } from "./lock.ts";
import { type RunOutputs, writeMetrics, writePrediction } from "./outputs.ts";
import { type Shard, shardPaths, shardSlice } from "./shards.ts";

/** What assembling found: how many shards are complete, and the metrics once all are. */
export interface Assembly {
  shardsDone: number;
  shardCount: number;
  /** Set when every shard was complete and the files are written. */
  metrics?: Metrics;
}

/** The journalled samples of each shard, and whether it holds all of them. */
export function readShards(
  out: RunOutputs,
  count: number,
): { shard: Shard; records: Map<string, SampleRecord>; complete: boolean }[] {
  const rows = out.dataset.rows;
  return Array.from({ length: count }, (_, index) => {
    const shard = { index, count };
    const { start, end } = shardSlice(rows.length, shard);
    const journal = readJournal(shardPaths(out.paths.dir, shard).journal).records;
    const records = new Map<string, SampleRecord>();
    let complete = true;
    for (const row of rows.slice(start, end)) {
      for (let s = 0; s < out.numRuns; s++) {
        const key = sampleKey(row.index, s);
        const record = journal.get(key);
        if (record) records.set(key, record);
        else complete = false;
      }
    }
    return { shard, records, complete };
  });
}

/** Assembles the run when every shard is complete; see the module comment. */
export async function assembleShards(
  out: RunOutputs,
  count: number,
  opts: { k?: number } = {},
): Promise<Assembly> {
  const lock = await RunLock.acquire(out.paths.dir, { wait: true });
  try {
    const shards = readShards(out, count);
    const shardsDone = shards.filter((s) => s.complete).length;
    if (shardsDone < count) return { shardsDone, shardCount: count };
    const records = new Map<string, SampleRecord>();
    for (const s of shards) for (const [key, r] of s.records) records.set(key, r);
    for (let sample = 0; sample < out.numRuns; sample++) {
      await writePrediction(out, sample, records);
    }
    const metrics = await writeMetrics(out, records, { k: opts.k });
    return { shardsDone, shardCount: count, metrics };
  } finally {
    lock.release();
  }
}
