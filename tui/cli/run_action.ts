/**
 * `rast run`'s implementation: validate, plan (read-only), then — only when samples are left —
 * load the engine and drive the shared run loop (engine/runs/session.ts) under the live TUI or
 * the headless batch reporter. A finished run is only re-reported: no engine is loaded.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RastEngine } from "../../engine/events.ts";
import { formatMetrics } from "../runs/evaluate.ts";
import { Grader } from "../../datasets/grading/mod.ts";
import { planRun, type RunPlan } from "../runs/plan.ts";
import { type RunSession, type RunSummary, startRun } from "../runs/session.ts";
import { describeStopIds, unreachableStopWarning } from "../../engine/stop_ids.ts";
import { TokenStatsRecorder } from "../analysis/token_stats.ts";
import { parseRunOptions, type RawRunOptions, type RunCommandConfig } from "./run_options.ts";

/** The engine factory's signature (engine/mod.ts's openEngine). */
export type OpenEngine = (opts: {
  baseModel: string;
  pairs: { positive: string; negative: string; weight: number }[];
  tensorParallelSize?: number;
  smallModels?: "whole" | "sharded";
  dtype?: "float32" | "bfloat16" | "float16";
  device?: string;
  maxConcurrent?: number;
  kvMemoryBytes?: number;
  gpuMemoryUtilization?: number;
  blockSize?: number;
  deterministic?: boolean;
  onNotice?: (message: string) => void;
}) => Promise<RastEngine>;

type Encode = (text: string) => number[];

/** How a session ended, besides its summary: stopped by the user, or not. */
export interface Outcome {
  summary: RunSummary;
  stoppedBy?: "SIGINT" | "SIGTERM" | "quit";
}

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

/** Loads the engine of `plan` with the command's device options. */
export async function openRunEngine(
  plan: RunPlan,
  config: RunCommandConfig,
  notice: (message: string) => void,
): Promise<RastEngine> {
  const openEngine = await loadOpenEngine();
  return await openEngine({
    baseModel: plan.baseModel.path,
    pairs: plan.pairs.map((p) => ({
      positive: p.positive.path,
      negative: p.negative.path,
      weight: p.weight,
    })),
    tensorParallelSize: config.tensorParallelSize,
    smallModels: config.smallModels,
    dtype: config.dtype,
    device: config.device,
    maxConcurrent: config.maxConcurrent,
    kvMemoryBytes: config.kvMemoryBytes,
    gpuMemoryUtilization: config.gpuMemoryUtilization,
    blockSize: config.blockSize,
    deterministic: config.deterministic,
    onNotice: notice,
  });
}

/** The --save-stats recorder of the run, with each row's level (math500's difficulty). */
export function statsRecorder(plan: RunPlan): TokenStatsRecorder {
  const levels = new Map<number, string>();
  for (const row of plan.dataset.rows) {
    const level = row.fields.level;
    if (level !== undefined && level !== null) levels.set(row.index, String(level));
  }
  return new TokenStatsRecorder(plan.paths.dir, { levels });
}

/**
 * The base tokenizer's encode; for a model folder without tokenizer.json (test checkpoints such
 * as test/fixtures/tiny) the prompt's UTF-8 bytes serve as token ids, with a warning.
 */
export function promptEncoder(plan: RunPlan, engine: RastEngine): Encode {
  if (existsSync(join(plan.baseModel.path, "tokenizer.json"))) return (text) => engine.encode(text);
  console.error(
    `rast: "${plan.baseModel.arg}" has no tokenizer.json; prompts go in as UTF-8 byte ids (fine for test checkpoints only)`,
  );
  return (text) => [...new TextEncoder().encode(text)];
}

/**
 * The engine module: engine/mod.ts, or the file named by RAST_ENGINE_MODULE exporting the same
 * openEngine (the CLI tests point it at a deterministic fake to test kill -9 and resume without
 * libtorch).
 */
export async function loadOpenEngine(): Promise<OpenEngine> {
  const override = Deno.env.get("RAST_ENGINE_MODULE");
  if (!override) return (await import("../../engine/mod.ts")).openEngine;
  const module = await import(new URL(override, `file://${Deno.cwd()}/`).href);
  return (module as { openEngine: OpenEngine }).openEngine;
}

/** Shows the session (TUI or batch) and collects its summary. */
export async function show(
  session: RunSession,
  engine: RastEngine,
  opts: { interactive: boolean; json: boolean; encode: Encode; recorder?: TokenStatsRecorder },
): Promise<Outcome> {
  const { showHeadless, showInteractive } = await import("./run_modes.ts");
  const { dataset, paths } = session.plan;
  const shown = opts.interactive
    ? await showInteractive(session, engine, {
      encode: opts.encode,
      recorder: opts.recorder,
      title: `${dataset.name} · ${paths.dir}`,
    })
    : await showHeadless(session, engine, opts);
  const summary = await session.finish();
  if (shown.failure) summary.errors.push(shown.failure);
  return { summary, stoppedBy: shown.stoppedBy === "deadline" ? undefined : shown.stoppedBy };
}

/**
 * The final report: the metrics table on stdout (on stderr under --json, where stdout ends with
 * one `{"kind":"metrics"}` line), or how far an unfinished run got. Sets the exit code: 0 when
 * complete or quit with `q`, 130 after Ctrl-C, 143 after SIGTERM, 1 after any engine, grading
 * or write failure (failed samples included), whatever the mode.
 */
export function report(outcome: Outcome, config: RunCommandConfig): void {
  const { summary, stoppedBy } = outcome;
  const { json } = config;
  for (const error of summary.errors.slice(0, 5)) console.error(`rast: ${error}`);
  if (summary.errors.length > 5) {
    console.error(`rast: ... and ${summary.errors.length - 5} more errors`);
  }
  if (summary.errors.length > 0) Deno.exitCode = 1;
  if (summary.complete && summary.metrics) {
    const table = formatMetrics(summary.metrics, { majRule: config.majRule });
    const text = `${table}\nresults in ${summary.dir}`;
    if (json) {
      console.error(text);
      console.log(JSON.stringify({ kind: "metrics", dir: summary.dir, metrics: summary.metrics }));
    } else console.log(text);
    return;
  }
  if (summary.complete && summary.shards) {
    const { index, count, done } = summary.shards;
    console.error(
      `rast: shard ${index}/${count} is done (${summary.total} samples); ${done} of ${count} shards are done, and the last to finish writes the prediction files and metrics.json in ${summary.dir} (see ./rast status --res-dir ${summary.dir})`,
    );
    return;
  }
  const failed = summary.failed > 0 ? `; ${summary.failed} samples failed (see above)` : "";
  console.error(
    `rast: ${summary.done}/${summary.total} samples saved in ${summary.dir}${failed}; rerun the same command to do the rest`,
  );
  if (summary.errors.length) return;
  if (stoppedBy === "SIGINT") Deno.exitCode = 130;
  else if (stoppedBy === "SIGTERM") Deno.exitCode = 143;
  else if (stoppedBy !== "quit") {
    console.error("rast: the engine stopped before every sample finished");
    Deno.exitCode = 1;
  }
}
