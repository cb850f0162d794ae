/**
 * `rast run`'s implementation: validate, plan (read-only), then — only when samples are left —
 * load the engine and drive the shared run loop (tui/runs/session.ts) under the live TUI or
 * the headless batch reporter. A finished run is only re-reported: no engine is loaded.
 */
import type { RastEngine } from "../../engine/events.ts";
import { Grader } from "../../datasets/grading/mod.ts";
import { planRun } from "../runs/plan.ts";
import { type RunSession } from "../runs/session.ts";
import { startRun } from "../runs/start.ts";
import { describeStopIds, unreachableStopWarning } from "../../engine/stop_ids.ts";
import {
  openRunEngine,
  type Outcome,
  promptEncoder,
  report,
  show,
  statsRecorder,
} from "./run_engine.ts";
import { parseRunOptions, type RawRunOptions, type RunCommandConfig } from "./run_options.ts";

/** Runs `rast run` with commander's options; throws UserError for bad input. */
export async function runCommand(
  raw: RawRunOptions,
  flags: { alphaGiven: boolean; command?: string[] },
): Promise<void> {
  const config = parseRunOptions(raw, flags);
  if (config.dataParallelSize > 1) {
    const { runDataParallel } = await import("./data_parallel.ts");
    return await runDataParallel(config);
  }
  if (config.queueWorkers !== undefined) {
    const { runShardQueue } = await import("./shard_queue.ts");
    return await runShardQueue(config);
  }
  const plan = await planRun(config);
  console.error(`rast: stopping on token ids ${describeStopIds(plan.stopIds)}`);
  const modelDirs = [plan.baseModel, ...plan.pairs.flatMap((p) => [p.positive, p.negative])];
  const unreachable = unreachableStopWarning(plan.stopIds, modelDirs.map((m) => m.path));
  if (unreachable) console.error(`rast: ${unreachable}`);
  // The grader cuts outputs at the run's stop strings, as generation did.
  const grader = new Grader({ stopStrings: plan.record.settings.stopStrings });
  try {
    // The folder is locked (one writer) and run.json written before any weights load.
    const session = await startRun(plan, grader, { wait: config.wait });
    const outcome: Outcome = session.done === session.total
      ? { summary: await session.finish() }
      : await generate(session, config);
    report(outcome, config);
  } finally {
    grader.close();
  }
}

async function generate(session: RunSession, config: RunCommandConfig): Promise<Outcome> {
  const { plan } = session;
  let engine: RastEngine;
  // A dumb terminal cannot redraw in place: it gets the batch progress line.
  const interactive = !config.batch && Deno.stdout.isTerminal() && Deno.stdin.isTerminal() &&
    Deno.env.get("TERM") !== "dumb";
  // Once the TUI owns the terminal, the engine's notices (the KV pool, the closing figures)
  // wait until it has closed.
  const held: string[] = [];
  let drawing = false;
  const notice = (message: string) => {
    if (drawing) held.push(message);
    else console.error(`rast: ${message}`);
  };
  try {
    engine = await openRunEngine(plan, config, notice);
  } catch (err) {
    session.close();
    throw err;
  }
  try {
    const encode = promptEncoder(plan, engine);
    const recorder = (config.saveStats ?? interactive) ? statsRecorder(plan) : undefined;
    drawing = interactive;
    return await show(session, engine, { interactive, json: config.json, encode, recorder });
  } finally {
    engine.close();
    drawing = false;
    for (const message of held) notice(message);
  }
}
