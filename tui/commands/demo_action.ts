/**
 * `rast demo`'s implementation: a thin wrapper over the run machinery (planRun / startRun) that
 * fills in the settings — the demo trio, datasets/demo.jsonl, alpha 1, T 1, top-p 0.95, the abel
 * prompt — and bounds the session in time. Results go to a fresh temp folder, not the repo.
 */
import { fileURLToPath } from "node:url";
import { ensureDemoTrio } from "../../engine/demo_models.ts";
import { formatMetrics, Grader } from "../../engine/eval/mod.ts";
import { planRun, type RunConfig } from "../../engine/runs/plan.ts";
import { type RunSummary, startRun } from "../../engine/runs/session.ts";
import { integer, number } from "./options.ts";
import { MAX_NUM_RUNS } from "./run_options.ts";
import { showHeadless, showInteractive } from "./run_modes.ts";

/** The options as commander hands them over. */
export interface RawDemoOptions {
  duration: string;
  numRuns: string;
  maxTokens: string;
  seed: string;
  outputDir?: string;
  batch?: boolean;
}

/** The question set the project ships for the demo. */
export const DEMO_DATASET = fileURLToPath(new URL("../../datasets/demo.jsonl", import.meta.url));

const RANDOM_WEIGHTS_NOTE = "rast demo: the demo models have RANDOM weights (built here, nothing " +
  "downloaded): the answers are word salad and the accuracy means nothing. For real results " +
  "see `./rast run --help` and the README.";

/** Runs the demo; exits 0 when it ends by time, by `q`, or with every sample done. */
export async function demoCommand(
  raw: RawDemoOptions,
  opts: { command?: string[] },
): Promise<void> {
  const seconds = number("--duration", raw.duration, { above: 0 });
  const numRuns = integer("--num-runs", raw.numRuns, 1, MAX_NUM_RUNS);
  const maxTokens = integer("--max-tokens", raw.maxTokens, 1);
  const seed = integer("--seed", raw.seed, 0, 2 ** 32 - 1);

  const trio = await ensureDemoTrio(undefined, {
    onBuild: (dir) => console.error(`rast demo: building the demo models once into ${dir} ...`),
  });
  console.error(RANDOM_WEIGHTS_NOTE);
  const pairs = [{ positive: trio.pos, negative: trio.neg, weight: 1 }];
  const config: RunConfig = {
    dataset: DEMO_DATASET,
    baseModel: trio.base,
    pairs,
    temperature: 1,
    topP: 0.95,
    maxTokens,
    numRuns,
    seed,
    promptTemplate: "abel",
    tensorParallelSize: 1,
    outputDir: raw.outputDir ?? await Deno.makeTempDir({ prefix: "rast-demo-" }),
    command: opts.command,
  };
  const plan = await planRun(config);
  const grader = new Grader({ stopStrings: plan.record.settings.stopStrings });
  try {
    const { openEngine } = await import("../../engine/mod.ts");
    const engine = await openEngine({
      baseModel: trio.base,
      pairs,
      onNotice: (message) => console.error(`rast: ${message}`),
    });
    let summary: RunSummary;
    try {
      const session = await startRun(plan, grader);
      const interactive = !raw.batch && Deno.stdout.isTerminal() && Deno.stdin.isTerminal();
      const deadlineMs = seconds * 1000;
      const { failure } = interactive
        ? await showInteractive(session, engine, { deadlineMs, title: "demo (random weights)" })
        : await showHeadless(session, engine, { deadlineMs });
      summary = await session.finish();
      if (failure) summary.errors.push(failure);
    } finally {
      engine.close();
    }
    for (const error of summary.errors.slice(0, 5)) console.error(`rast: ${error}`);
    if (summary.errors.length) Deno.exitCode = 1;
    if (summary.complete && summary.metrics) {
      console.log(`${formatMetrics(summary.metrics)}\nresults in ${summary.dir}`);
    } else {
      console.error(
        `rast demo: stopped with ${summary.done}/${summary.total} samples done; results in ${summary.dir}`,
      );
    }
  } finally {
    grader.close();
  }
}
