/**
 * A run folder's progress from its files alone (`rast status`): per shard (or for the one
 * journal of an unsharded run) the samples journalled, in flight (checkpointed, not yet
 * journalled) and failed, whether a process holds its lock now and who, and whether the
 * prediction files and metrics.json are written.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../engine/errors.ts";
import { readInflight } from "./inflight.ts";
import { readJournal, sampleKey } from "./journal.ts";
import { runPaths } from "./layout.ts";
import { LOCK_FILE, lockHeld, readLockHolder } from "./lock.ts";
import { readRunRecord } from "./run_json.ts";
import { type Shard, shardPaths, shardSlice } from "./shards.ts";

/** One shard's progress (the whole run's, for an unsharded run). */
export interface PartStatus {
  /** Undefined for an unsharded run. */
  shard?: Shard;
  rows: number;
  /** Samples: rows × num-runs. */
  total: number;
  done: number;
  /** Checkpointed samples not journalled yet. */
  inflight: number;
  /** Samples whose last attempt failed (redone by a rerun). */
  failed: number;
  /** The process holding the part's lock now, as its lock file names it. */
  lockedBy?: { pid?: number; host?: string; since?: string };
}

/** The progress of a run folder. */
export interface RunStatus {
  dir: string;
  numRuns: number;
  rows: number;
  /** The shard count, or undefined for an unsharded run. */
  shards?: number;
  parts: PartStatus[];
  /** Every prediction file and metrics.json are on disk. */
  assembled: boolean;
}

/** Reads the progress of the run in `dir`; throws UserError when it holds no run. */
export function runStatus(dir: string): RunStatus {
  const paths = runPaths(dir);
  if (!existsSync(paths.runJson)) {
    throw new UserError(`"${dir}" holds no run.json; pass the run folder (the one with run.json)`);
  }
  const { settings, sharding } = readRunRecord(paths.runJson);
  const rows = settings.dataset.end - settings.dataset.start;
  const numRuns = settings.numRuns;
  const part = (journal: string, inflight: string, lock: string, shard?: Shard): PartStatus => {
    const partRows = shard ? shardSlice(rows, shard) : { start: 0, end: rows };
    const read = readJournal(journal);
    const counted = (sample: number) => sample < numRuns;
    const done = [...read.records.values()].filter((r) => counted(r.sample)).length;
    const failed = [...read.failures.values()].filter((r) => counted(r.sample)).length;
    const checkpointed = [...readInflight(inflight).values()].filter((e) =>
      counted(e.sample) && !read.records.has(sampleKey(e.row, e.sample))
    );
    return {
      shard,
      rows: partRows.end - partRows.start,
      total: (partRows.end - partRows.start) * numRuns,
      done,
      inflight: checkpointed.length,
      failed,
      lockedBy: lockHeld(lock) ? readLockHolder(lock) : undefined,
    };
  };
  const parts = sharding
    ? Array.from({ length: sharding.count }, (_, index) => {
      const shard = { index, count: sharding.count };
      const files = shardPaths(dir, shard);
      return part(files.journal, files.inflight, join(dir, files.lockName), shard);
    })
    : [part(paths.journal, paths.inflight, join(dir, LOCK_FILE))];
  const assembled = existsSync(paths.metrics) &&
    Array.from({ length: numRuns }, (_, s) => existsSync(paths.prediction(s))).every(Boolean);
  return { dir, numRuns, rows, shards: sharding?.count, parts, assembled };
}

/** The status as lines of text. */
export function formatRunStatus(status: RunStatus): string {
  const { parts } = status;
  const done = parts.reduce((n, p) => n + p.done, 0);
  const total = parts.reduce((n, p) => n + p.total, 0);
  const split = status.shards === undefined ? "unsharded" : `${status.shards} shards`;
  const lines = [
    `${status.dir}: ${status.rows} rows × ${status.numRuns} samples, ${split}; ${done}/${total} samples done`,
  ];
  for (const p of parts) {
    const name = p.shard ? `shard ${p.shard.index}/${p.shard.count}` : "run";
    const holder = p.lockedBy
      ? `running (pid ${p.lockedBy.pid ?? "?"} on ${p.lockedBy.host ?? "?"}, since ${
        p.lockedBy.since ?? "?"
      })`
      : p.done === p.total
      ? "done"
      : "not running";
    lines.push(
      `  ${name}: ${p.done}/${p.total} samples, ${p.inflight} in flight, ${p.failed} failed · ${holder}`,
    );
  }
  const shardsDone = parts.filter((p) => p.done === p.total).length;
  lines.push(
    status.assembled
      ? "assembled: prediction files and metrics.json are written"
      : `not assembled: ${shardsDone} of ${parts.length} ${
        status.shards === undefined ? "runs" : "shards"
      } done`,
  );
  return lines.join("\n");
}
