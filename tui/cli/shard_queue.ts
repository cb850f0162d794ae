/**
 * One worker of `rast run --data-parallel-size N` (data_parallel.ts starts it with the hidden
 * --data-parallel-worker N): it takes the run's shards in order, each whose lock it can take
 * and that is not done, until a pass over them finds none left to take; one engine serves all
 * its shards. It reports on stdout as JSONL (--json): a {"kind":"shard"} line as it takes a
 * shard, then that shard's events and verdicts (and a {"kind":"queue"} line first).
 */
import type { RastEngine } from "../../engine/events.ts";
import { Grader } from "../../datasets/grading/mod.ts";
import { assembleShards } from "../runs/assemble.ts";
import { windowOutputs } from "../runs/outputs.ts";
import { planRun, planShard } from "../runs/plan.ts";
import { tryStartShard } from "../runs/start.ts";
import { openRunEngine, promptEncoder, report, show } from "./run_engine.ts";
import type { RunCommandConfig } from "./run_options.ts";

/** Runs shards until none is left to take; sets the exit code as `rast run` does. */
export async function runShardQueue(config: RunCommandConfig): Promise<void> {
  const first = await planRun(config);
  const count = first.sharded!.shard.count;
  const grader = new Grader({ stopStrings: first.record.settings.stopStrings });
  const notice = (message: string) => console.error(`rast: ${message}`);
  let engine: RastEngine | undefined;
  let encode: ((text: string) => number[]) | undefined;
  console.log(JSON.stringify({ kind: "queue", dir: first.paths.dir, count }));
  try {
    for (let ranOne = true; ranOne;) {
      ranOne = false;
      for (let index = 0; index < count; index++) {
        const plan = index === 0 ? first : planShard(first, index);
        if (plan.done.size === plan.total) continue;
        const session = await tryStartShard(plan, grader);
        if (!session) continue;
        // Another worker finished it meanwhile; finishing here still tries to assemble.
        if (session.done === session.total) {
          await session.finish();
          continue;
        }
        ranOne = true;
        const line = { kind: "shard", index, count, dir: plan.paths.dir, total: session.total };
        console.log(JSON.stringify({ ...line, doneBefore: session.done }));
        try {
          engine ??= await openRunEngine(plan, config, notice);
        } catch (err) {
          session.close();
          throw err;
        }
        encode ??= promptEncoder(plan, engine);
        const outcome = await show(session, engine, { interactive: false, json: true, encode });
        const { summary } = outcome;
        if (summary.complete && summary.errors.length === 0) {
          // The parent prints the table; only the assembling worker's metrics line goes up.
          if (summary.metrics) {
            console.log(
              JSON.stringify({ kind: "metrics", dir: summary.dir, metrics: summary.metrics }),
            );
          }
          continue;
        }
        report(outcome, config);
        return;
      }
    }
    // A worker killed after its shard's last journal line, before assembling, left it undone.
    await assembleShards(windowOutputs(first), count);
  } finally {
    engine?.close();
    grader.close();
  }
}
