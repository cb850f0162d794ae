/**
 * Opening a run for writing (a whole run, or one shard of it): its folder made, its lock taken,
 * run.json written or checked, the journal and in-flight checkpoints opened, and prediction
 * files already complete rewritten. What is open is a RunSession (session.ts).
 */
import { existsSync } from "node:fs";
import { makeRunDir } from "./layout.ts";
import { Journal, sampleKey } from "./journal.ts";
import { InflightLog } from "./inflight.ts";
import { RunLock } from "./lock.ts";
import type { RunPlan } from "./plan.ts";
import { checkRunFolder, writeRunRecord, writeRunRecordOnce } from "./run_json.ts";
import { checkSharding, shardLabel } from "./shards.ts";
import { RunSession, type SampleGrader } from "./session.ts";

/**
 * Opens the run for writing: creates its folder, takes its lock (one writer per folder; `wait`
 * queues behind a holder instead of refusing), writes run.json (new runs, and a run grown to
 * more samples, whose run.json then records the new --num-runs), opens the journal.
 */
export async function startRun(
  plan: RunPlan,
  grader: SampleGrader,
  opts: { wait?: boolean } = {},
): Promise<RunSession> {
  makeRunDir(plan.paths.dir);
  const { sharded } = plan;
  const lock = await RunLock.acquire(plan.paths.dir, {
    wait: opts.wait,
    name: sharded?.lockName,
    label: sharded && `Shard ${shardLabel(sharded.shard)} of run folder "${plan.paths.dir}"`,
  });
  return await openRun(plan, grader, lock);
}

/**
 * startRun for a worker taking shards from a queue: the shard's session, or undefined when
 * another process holds the shard's lock.
 */
export async function tryStartShard(
  plan: RunPlan,
  grader: SampleGrader,
): Promise<RunSession | undefined> {
  if (!plan.sharded) throw new Error("tryStartShard needs the plan of a shard");
  makeRunDir(plan.paths.dir);
  const lock = RunLock.tryAcquire(plan.paths.dir, plan.sharded.lockName);
  return lock && await openRun(plan, grader, lock);
}

async function openRun(plan: RunPlan, grader: SampleGrader, lock: RunLock): Promise<RunSession> {
  try {
    if (plan.sharded) {
      // The first shard to start writes run.json; every other checks it is its own run's.
      if (!await writeRunRecordOnce(plan.paths.runJson, plan.record)) {
        const found = checkRunFolder(plan.paths.dir, plan.record.settings);
        checkSharding(plan.paths.dir, found?.sharding, plan.sharded.shard);
      }
    } else if (!existsSync(plan.paths.runJson) || plan.growing) {
      await writeRunRecord(plan.paths.runJson, plan.record);
    }
    const journal = Journal.open(plan.paths.journal);
    const pending = (row: number, sample: number) =>
      !journal.records.has(sampleKey(row, sample)) && !journal.failures.has(sampleKey(row, sample));
    let inflight: InflightLog;
    try {
      inflight = InflightLog.open(plan.paths.inflight, (row, sample) => !pending(row, sample));
    } catch (err) {
      journal.close();
      throw err;
    }
    const session = new RunSession(plan, grader, journal, lock, inflight);
    await session.writeCompletePredictions();
    return session;
  } catch (err) {
    lock.release();
    throw err;
  }
}
