/**
 * `rast demo`'s implementation: a thin wrapper over the run machinery (planRun / startRun) that
 * fills in the settings — the trained miniarith trio on its held-out set (or, with --random, the
 * random trio on datasets/demo.jsonl), alpha 1, temperature 1 — and bounds the session in time.
 * --table hands over to demo_table.ts. Without --output-dir a live demo's results go to a temp
 * folder removed when it ends (demos must not pile up in /tmp), and the table's to the demo cache
 * (defaultDemoCacheDir()/table), where a rerun with the same settings resumes or re-reports.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultDemoCacheDir, ensureDemoTrio } from "../checkpoints/demo_models.ts";
import { UserError } from "../../engine/errors.ts";
import { formatMetrics } from "../runs/evaluate.ts";
import { Grader } from "../../datasets/grading/mod.ts";
import { planRun, type RunConfig } from "../runs/plan.ts";
import { type RunSummary } from "../runs/session.ts";
import { startRun } from "../runs/start.ts";
import {
  MINIARITH_DATASET,
  MINIARITH_MAX_TOKENS,
  MINIARITH_MODELS,
  MINIARITH_PROMPT,
  MINIARITH_TABLE,
} from "../../datasets/miniarith.ts";
import { integer, number } from "./options.ts";
import { MAX_NUM_RUNS } from "./run_options.ts";
import { showHeadless, showInteractive } from "./run_modes.ts";

/** The options as commander hands them over. */
export interface RawDemoOptions {
  table?: boolean;
  json?: boolean;
  random?: boolean;
  duration: string;
  numRuns: string;
  maxTokens?: string;
  seed: string;
  outputDir?: string;
  batch?: boolean;
}

/** The question set the project ships for the random-weight demo. */
export const DEMO_DATASET = fileURLToPath(new URL("../../datasets/demo.jsonl", import.meta.url));

const RANDOM_WEIGHTS_NOTE = "rast demo: the --random models have RANDOM weights (built here, " +
  "nothing downloaded): the answers are word salad and the accuracy means nothing. Without " +
  "--random the demo runs the trained miniarith trio.";

/** What one demo session decodes. */
interface DemoSetup {
  config: Omit<RunConfig, "numRuns" | "seed" | "outputDir" | "command" | "maxTokens">;
  maxTokens: number;
  title: string;
}

/** Runs the demo; exits 0 when it ends by time, by `q`, or with every sample done. */
export async function demoCommand(
  raw: RawDemoOptions,
  opts: { command?: string[] },
): Promise<void> {
  const numRuns = integer("--num-runs", raw.numRuns, 1, MAX_NUM_RUNS);
  const seed = integer("--seed", raw.seed, 0, 2 ** 32 - 1);
  const maxTokens = raw.maxTokens === undefined
    ? undefined
    : integer("--max-tokens", raw.maxTokens, 1);
  if (raw.json && !raw.table) throw new UserError("--json needs --table; add --table");
  if (raw.table && raw.random) {
    throw new UserError("--table measures the trained trio; drop --random");
  }
  if (raw.table) {
    const outputDir = raw.outputDir ?? join(defaultDemoCacheDir(), "table");
    const { tableCommand } = await import("./demo_table.ts");
    await tableCommand({
      trio: MINIARITH_MODELS,
      numRuns,
      seed,
      maxTokens,
      outputDir,
      json: Boolean(raw.json),
      command: opts.command,
    });
    return;
  }
  const seconds = number("--duration", raw.duration, { above: 0 });
  const setup = raw.random ? await randomSetup() : trainedSetup();
  const outputDir = raw.outputDir ?? await Deno.makeTempDir({ prefix: "rast-demo-" });
  const config: RunConfig = {
    ...setup.config,
    maxTokens: maxTokens ?? setup.maxTokens,
    numRuns,
    seed,
    outputDir,
    command: opts.command,
  };
  const keep = raw.outputDir !== undefined;
  try {
    await runDemo(config, { seconds, batch: Boolean(raw.batch), title: setup.title, keep });
  } finally {
    if (!keep) await Deno.remove(outputDir, { recursive: true }).catch(() => {});
  }
}

function trainedSetup(): DemoSetup {
  const { base, positive, negative } = MINIARITH_MODELS;
  return {
    config: {
      dataset: MINIARITH_DATASET,
      baseModel: base,
      pairs: [{ positive, negative, weight: 1 }],
      temperature: 1,
      topP: 1,
      promptTemplate: MINIARITH_PROMPT,
      tensorParallelSize: 1,
    },
    maxTokens: MINIARITH_MAX_TOKENS,
    title: `miniarith · RAST α 1${baseAccuracyNote()}`,
  };
}

/** " · base alone 55.3% (table)" from the shipped table: the reference for RAST's accuracy. */
function baseAccuracyNote(): string {
  if (!existsSync(MINIARITH_TABLE)) return "";
  const table = JSON.parse(Deno.readTextFileSync(MINIARITH_TABLE));
  return ` · base alone ${(100 * table.base.accuracy).toFixed(1)}% (table)`;
}

async function randomSetup(): Promise<DemoSetup> {
  const trio = await ensureDemoTrio(undefined, {
    onBuild: (dir) => console.error(`rast demo: building the random models once into ${dir} ...`),
  });
  console.error(RANDOM_WEIGHTS_NOTE);
  return {
    config: {
      dataset: DEMO_DATASET,
      baseModel: trio.base,
      pairs: [{ positive: trio.pos, negative: trio.neg, weight: 1 }],
      temperature: 1,
      topP: 0.95,
      promptTemplate: "abel",
      tensorParallelSize: 1,
    },
    maxTokens: 160,
    title: "demo (random weights)",
  };
}

async function runDemo(
  config: RunConfig,
  opts: { seconds: number; batch: boolean; title: string; keep: boolean },
): Promise<void> {
  const where = (dir: string) =>
    opts.keep ? `results in ${dir}` : "results not kept (pass --output-dir to keep them)";
  const plan = await planRun(config);
  const grader = new Grader({ stopStrings: plan.record.settings.stopStrings });
  try {
    const { openEngine } = await import("../../engine/mod.ts");
    const engine = await openEngine({
      baseModel: config.baseModel,
      pairs: config.pairs,
      onNotice: (message) => console.error(`rast: ${message}`),
    });
    let summary: RunSummary;
    try {
      const session = await startRun(plan, grader);
      const interactive = !opts.batch && Deno.stdout.isTerminal() && Deno.stdin.isTerminal();
      const deadlineMs = opts.seconds * 1000;
      const { failure } = interactive
        ? await showInteractive(session, engine, { deadlineMs, title: opts.title })
        : await showHeadless(session, engine, { deadlineMs });
      summary = await session.finish();
      if (failure) summary.errors.push(failure);
    } finally {
      engine.close();
    }
    for (const error of summary.errors.slice(0, 5)) console.error(`rast: ${error}`);
    if (summary.errors.length) Deno.exitCode = 1;
    if (summary.complete && summary.metrics) {
      console.log(`${formatMetrics(summary.metrics)}\n${where(summary.dir)}`);
    } else {
      console.error(
        `rast demo: stopped with ${summary.done}/${summary.total} samples done; ${
          where(summary.dir)
        }`,
      );
    }
  } finally {
    grader.close();
  }
}
