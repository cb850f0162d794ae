/**
 * `rast demo --table`: the miniarith table, each of its six runs (base, negative, positive
 * alone; RAST at three alphas) made through the normal run path — planRun, startRun, the
 * headless reporter — so every run lands in the usual layout under --output-dir, and a rerun
 * with the same folder only re-reports. Path coverage is counted on the RAST α=1 run's stream.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Grader } from "../../datasets/grading/mod.ts";
import { planRun } from "../runs/plan.ts";
import { startRun } from "../runs/start.ts";
import {
  countingPathCoverage,
  emptyCount,
  pathCoverage,
  type PathCoverageCount,
} from "../analysis/path_coverage.ts";
import { formatTrioTable, tableRuns, type TrioModels, trioTable } from "../analysis/trio_table.ts";
import type { Metrics } from "../../datasets/grading/metrics.ts";
import { writeTextAtomic } from "../runs/atomic.ts";
import {
  MINIARITH_DATASET,
  MINIARITH_MAX_TOKENS,
  MINIARITH_PROMPT,
} from "../../datasets/miniarith.ts";
import { loadOpenEngine } from "./run_engine.ts";
import { showHeadless } from "./run_modes.ts";

/** Settings of the table. */
export interface TableSettings {
  trio: TrioModels;
  numRuns: number;
  seed: number;
  maxTokens?: number;
  outputDir: string;
  json: boolean;
  command?: string[];
}

/** The run whose stream path coverage is counted on. */
const COVERAGE_RUN = "rast/1.0";
/** Written beside metrics.json in that run's folder, so a re-report can show it again. */
const COVERAGE_FILE = "path_coverage.json";

/** Runs (or re-reports) the six runs and prints the table; sets the exit code on failure. */
export async function tableCommand(settings: TableSettings): Promise<void> {
  const runs: Record<string, { metrics: Metrics; dir: string }> = {};
  let coverage: number | null = null;
  for (const run of tableRuns(settings.trio)) {
    console.error(`rast demo --table: ${run.key} ...`);
    const plan = await planRun({
      dataset: MINIARITH_DATASET,
      baseModel: run.model,
      pairs: run.pairs,
      temperature: 1,
      topP: 1,
      maxTokens: settings.maxTokens ?? MINIARITH_MAX_TOKENS,
      numRuns: settings.numRuns,
      seed: settings.seed,
      promptTemplate: MINIARITH_PROMPT,
      tensorParallelSize: 1,
      outputDir: settings.outputDir,
      command: settings.command,
    });
    const grader = new Grader({ stopStrings: plan.record.settings.stopStrings });
    try {
      const session = await startRun(plan, grader);
      const count = emptyCount();
      const pending = plan.total - plan.done.size;
      if (pending > 0) {
        const openEngine = await loadOpenEngine();
        const engine = await openEngine({
          baseModel: plan.baseModel.path,
          pairs: run.pairs,
          onNotice: (message) => console.error(`rast: ${message}`),
        });
        try {
          const counted = run.key === COVERAGE_RUN ? countingPathCoverage(engine, count) : engine;
          const { failure } = await showHeadless(session, counted, { stats: true });
          if (failure) throw new Error(failure);
        } finally {
          engine.close();
        }
      }
      const summary = await session.finish();
      if (!summary.complete || !summary.metrics) {
        for (const error of summary.errors.slice(0, 5)) console.error(`rast: ${error}`);
        console.error(
          `rast demo --table: ${run.key} stopped with ${summary.done}/${summary.total} samples; ` +
            `rerun with --output-dir ${settings.outputDir} to finish it`,
        );
        Deno.exitCode = 1;
        return;
      }
      runs[run.key] = { metrics: summary.metrics, dir: summary.dir };
      if (run.key === COVERAGE_RUN) {
        const generatedAll = plan.done.size === 0 && pending > 0;
        coverage = await coverageOf(summary.dir, count, generatedAll);
      }
    } finally {
      grader.close();
    }
  }
  const table = trioTable(runs, { pathCoverage: coverage });
  if (settings.json) {
    console.error(formatTrioTable(table));
    console.log(JSON.stringify(table));
  } else console.log(formatTrioTable(table));
}

/**
 * Path coverage of the coverage run: counted now when this session generated all of it (and
 * saved beside its metrics), else read back from that file; null when neither says.
 */
async function coverageOf(
  dir: string,
  count: PathCoverageCount,
  generatedAll: boolean,
): Promise<number | null> {
  const path = join(dir, COVERAGE_FILE);
  if (generatedAll) {
    await writeTextAtomic(path, JSON.stringify(count) + "\n");
    return pathCoverage(count);
  }
  if (!existsSync(path)) return null;
  return pathCoverage(JSON.parse(await Deno.readTextFile(path)) as PathCoverageCount);
}
