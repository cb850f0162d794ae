/**
 * Which rows a shard of a run covers, and where its files live. A run's window (the rows of
 * --start/--end) is cut into N contiguous shards: shard i holds window positions
 * [floor(i·R/N), floor((i+1)·R/N)), so every row is in exactly one shard and shard sizes differ
 * by at most one. The shard is not part of the run's identity (run.json's settings are the
 * window's); the shard count is recorded in run.json (`sharding`) so shards of different N are
 * never mixed. Each shard has its own journal, checkpoints and lock in the run folder.
 */
import { join } from "node:path";
import { UserError } from "../../engine/errors.ts";

/** Shard `index` of `count` (0 ≤ index < count). */
export interface Shard {
  index: number;
  count: number;
}

/** How run.json records that a run is sharded (absent in an unsharded run's). */
export interface ShardingRecord {
  count: number;
  /** How rows are split; only "contiguous" exists. */
  split: "contiguous";
  /** The prediction files' layout, so `eval` can assemble them as the run would. */
  layout: "rast" | "authors";
}

/** The most shards: far more than any cluster's array of tasks over one benchmark needs. */
export const MAX_SHARDS = 100_000;

/** Parses "i/N" (`--shard`); throws UserError naming the fix. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) {
    throw new UserError(`--shard "${text}" is not i/N; pass e.g. --shard 0/4 (shards 0..3 of 4)`);
  }
  return checked(Number(m[1]), Number(m[2]), `--shard "${text}"`);
}

function checked(index: number, count: number, what: string): Shard {
  if (count < 1 || count > MAX_SHARDS) {
    throw new UserError(
      `${what}: the shard count ${count} is not in 1..${MAX_SHARDS}; pass a count in that range`,
    );
  }
  if (index >= count) {
    throw new UserError(
      `${what}: shard ${index} is not below the shard count ${count}; shards are 0..${count - 1}`,
    );
  }
  return { index, count };
}

/**
 * The shard of a Slurm job-array task: SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN (0 when unset)
 * of SLURM_ARRAY_TASK_COUNT; undefined outside a job array.
 */
export function shardFromSlurm(env: { get(name: string): string | undefined }): Shard | undefined {
  const id = env.get("SLURM_ARRAY_TASK_ID");
  const count = env.get("SLURM_ARRAY_TASK_COUNT");
  if (id === undefined || count === undefined) return undefined;
  const min = env.get("SLURM_ARRAY_TASK_MIN") ?? "0";
  const ints = [id, count, min].map((v) => /^\d+$/.test(v.trim()) ? Number(v) : NaN);
  if (ints.some(Number.isNaN)) {
    throw new UserError(
      `SLURM_ARRAY_TASK_ID "${id}", SLURM_ARRAY_TASK_COUNT "${count}" or SLURM_ARRAY_TASK_MIN "${min}" is not a whole number; pass --shard i/N`,
    );
  }
  const [taskId, taskCount, taskMin] = ints;
  return checked(
    taskId - taskMin,
    taskCount,
    `SLURM_ARRAY_TASK_ID ${taskId} (array from ${taskMin}, ${taskCount} tasks)`,
  );
}

/** The shard to run: --shard when given, else the Slurm array task's, else none. */
export function resolveShard(
  option: string | undefined,
  env: { get(name: string): string | undefined } = Deno.env,
): Shard | undefined {
  return option !== undefined ? parseShard(option) : shardFromSlurm(env);
}

/** Positions [start, end) in a window of `rows` rows that `shard` covers (may be empty). */
export function shardSlice(rows: number, shard: Shard): { start: number; end: number } {
  return {
    start: Math.floor(shard.index * rows / shard.count),
    end: Math.floor((shard.index + 1) * rows / shard.count),
  };
}

/** "2/4": how a shard is named in messages. */
export function shardLabel(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** The per-shard files in run folder `dir`. */
export interface ShardPaths {
  journal: string;
  inflight: string;
  /** The lock file's name in the folder (RunLock's `name`). */
  lockName: string;
}

/** Where shard `shard` keeps its journal, checkpoints and lock in `dir`. */
export function shardPaths(dir: string, shard: Shard): ShardPaths {
  const tag = `shard-${shard.index}-of-${shard.count}`;
  return {
    journal: join(dir, `journal.${tag}.jsonl`),
    inflight: join(dir, `inflight.${tag}.jsonl`),
    lockName: `lock.${tag}`,
  };
}

/** Whether `name` is a file of an open or interrupted shard that holds no results (a lock). */
export function isShardLockName(name: string): boolean {
  return /^lock\.shard-\d+-of-\d+$/.test(name);
}

/**
 * Checks that a run folder's sharding (run.json's, undefined when unsharded) fits the shard
 * asked for (undefined: an unsharded run); throws UserError naming the fix.
 */
export function checkSharding(
  dir: string,
  recorded: ShardingRecord | undefined,
  shard: Shard | undefined,
): void {
  if (!recorded && !shard) return;
  if (!recorded) {
    throw new UserError(
      `Run folder "${dir}" holds an unsharded run; rerun it without --shard or --data-parallel-size (and outside a Slurm array), or pick another --output-dir`,
    );
  }
  if (!shard) {
    throw new UserError(
      `Run folder "${dir}" is split into ${recorded.count} shards; pass --shard i/${recorded.count} to run one, or see it with ./rast status --res-dir "${dir}"`,
    );
  }
  if (shard.count !== recorded.count) {
    throw new UserError(
      `Run folder "${dir}" is split into ${recorded.count} shards, not ${shard.count}; pass --shard ${shard.index}/${recorded.count} (0..${
        recorded.count - 1
      }) or pick another --output-dir`,
    );
  }
}
