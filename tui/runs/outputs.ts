/**
 * The files a run derives from its journal: prediction-<i>.jsonl (one line per window row, data
 * file order), verdicts.jsonl and metrics.json. One implementation for an unsharded run, which
 * writes them as it goes, and for a sharded one, whose last shard to finish (or `eval`) writes
 * them from every shard's journal.
 */
import { existsSync, readFileSync } from "node:fs";
import { computeMetrics, type Metrics } from "../../datasets/grading/mod.ts";
import { verdictsFileText } from "./evaluate.ts";
import { writeTextAtomic } from "./atomic.ts";
import { sampleKey, type SampleRecord } from "./journal.ts";
import type { Layout, RunPaths } from "./layout.ts";
import type { RunDataset, RunPlan } from "./plan.ts";
import { predictionFileText } from "./predictions.ts";

/** What the derived files are made of: the window's rows and prompts, and where they go. */
export interface RunOutputs {
  dataset: RunDataset;
  /** Rendered prompt of each row, same order (the authors' layout writes them). */
  prompts: readonly string[];
  layout: Layout;
  numRuns: number;
  paths: RunPaths;
}

/** The derived files of `plan`'s run: its whole window (a shard's plan's included). */
export function windowOutputs(plan: RunPlan): RunOutputs {
  const { sharded, config, paths } = plan;
  return {
    dataset: sharded?.window ?? plan.dataset,
    prompts: sharded?.windowPrompts ?? plan.prompts,
    layout: config.layout ?? "rast",
    numRuns: config.numRuns,
    paths,
  };
}

/** Whether every row of the window has sample `sample` in `records`. */
export function sampleComplete(
  out: RunOutputs,
  sample: number,
  records: ReadonlyMap<string, SampleRecord>,
): boolean {
  return out.dataset.rows.every((r) => records.has(sampleKey(r.index, sample)));
}

/** Writes prediction-<sample>.jsonl (every row must have its record) unless it holds it already. */
export async function writePrediction(
  out: RunOutputs,
  sample: number,
  records: ReadonlyMap<string, SampleRecord>,
): Promise<void> {
  const text = predictionFileText(out.dataset, sample, records, {
    layout: out.layout,
    prompts: out.prompts,
  });
  await writeIfChanged(out.paths.prediction(sample), text);
}

/**
 * metrics.json and verdicts.jsonl over the first numRuns samples (all must be in `records`);
 * with `write` false only computes them (a run reported on fewer samples than it holds).
 */
export async function writeMetrics(
  out: RunOutputs,
  records: ReadonlyMap<string, SampleRecord>,
  opts: { k?: number; write?: boolean } = {},
): Promise<Metrics> {
  const { dataset, numRuns, paths } = out;
  const verdicts = Array.from(
    { length: numRuns },
    (_, s) => dataset.rows.map((r) => records.get(sampleKey(r.index, s))!.verdict),
  );
  const metrics = computeMetrics(dataset, verdicts, { k: opts.k ?? numRuns });
  if (opts.write === false) return metrics;
  await writeIfChanged(paths.verdicts, verdictsFileText(dataset.rows, verdicts));
  await writeIfChanged(paths.metrics, JSON.stringify(metrics, null, 2) + "\n");
  return metrics;
}

/** Writes `text` atomically unless the file already holds exactly it. */
async function writeIfChanged(path: string, text: string): Promise<void> {
  if (!existsSync(path) || readFileSync(path, "utf8") !== text) await writeTextAtomic(path, text);
}
