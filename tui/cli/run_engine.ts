/**
 * Running one plan's session: the engine opened with the command's device options, prompts
 * encoded, the session shown (live TUI or headless) and its outcome reported. `rast run` and the
 * shard-queue workers of --data-parallel-size share these.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RastEngine } from "../../engine/events.ts";
import type { EngineOptions } from "../../engine/mod.ts";
import { formatMetrics } from "../runs/evaluate.ts";
import type { RunPlan } from "../runs/plan.ts";
import type { RunSession, RunSummary } from "../runs/session.ts";
import { TokenStatsRecorder } from "../analysis/token_stats.ts";
import type { RunCommandConfig } from "./run_options.ts";

/** The engine factory's signature (engine/mod.ts's openEngine, or RAST_ENGINE_MODULE's). */
export type OpenEngine = (opts: EngineOptions) => Promise<RastEngine>;

type Encode = (text: string) => number[];

/** How a session ended, besides its summary: stopped by the user, or not. */
export interface Outcome {
  summary: RunSummary;
  stoppedBy?: "SIGINT" | "SIGTERM" | "quit";
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
    enforceEager: config.enforceEager,
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
