/**
 * Evaluation of a results folder in the authors' layout: `prediction-{i}.jsonl`, one line per
 * dataset row in dataset order, each with `model_output`. Writes `metrics.json` and
 * `verdicts.jsonl` (one graded sample a line) beside them, atomically, and renders a table.
 */
import { join } from "node:path";
import { UserError } from "../../engine/errors.ts";
import { loadDataset } from "../../datasets/load.ts";
import { Grader, type GraderOptions, type Verdict } from "../../datasets/grading/grader.ts";
import { computeMetrics, type Metrics } from "../../datasets/grading/metrics.ts";
import type { MajRule } from "../../datasets/grading/vote.ts";
import { writeFileAtomic } from "./atomic.ts";

/** Options of evaluateResultsDir. */
export interface EvaluateOptions extends GraderOptions {
  /** Data directory for registered datasets (see loadDataset). */
  dataDir?: string;
  /** Largest k for pass@k / maj@k (default: the number of prediction files). */
  k?: number;
  /** Use this grader (left open) instead of making one. */
  grader?: Grader;
  /** Called as samples finish grading. */
  onProgress?: (done: number, total: number) => void;
}

const PREDICTION_FILE = /^prediction-(\d+)\.jsonl$/;

/** The `prediction-{i}.jsonl` files of a folder, in order; their indices must run 0..n-1. */
export async function predictionFiles(resDir: string): Promise<string[]> {
  const found = new Map<number, string>();
  try {
    for await (const entry of Deno.readDir(resDir)) {
      const m = PREDICTION_FILE.exec(entry.name);
      if (entry.isFile && m) found.set(Number(m[1]), join(resDir, entry.name));
    }
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound ? "it does not exist" : String(err);
    throw new UserError(`Cannot read results folder "${resDir}": ${reason}`);
  }
  if (found.size === 0) {
    throw new UserError(`No prediction-0.jsonl in "${resDir}"; pass the folder of a finished run`);
  }
  const files: string[] = [];
  for (let i = 0; i < found.size; i++) {
    const file = found.get(i);
    if (!file) {
      throw new UserError(
        `"${resDir}" has no prediction-${i}.jsonl but has later ones; add or rename it`,
      );
    }
    files.push(file);
  }
  return files;
}

/** The `model_output` of every line of one prediction file. */
async function readOutputs(path: string, expected: number, dataset: string): Promise<string[]> {
  const lines = (await Deno.readTextFile(path)).split("\n");
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  if (lines.length !== expected) {
    throw new UserError(
      `${path} has ${lines.length} lines but dataset "${dataset}" has ${expected} rows; ` +
        "each prediction file needs one line per row, in dataset order",
    );
  }
  return lines.map((line, i) => {
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new UserError(`${path}:${i + 1}: not valid JSON (${(err as Error).message})`);
    }
    const output = (row as { model_output?: unknown } | null)?.model_output;
    if (typeof output !== "string") {
      throw new UserError(`${path}:${i + 1}: "model_output" is missing or not a string`);
    }
    return output;
  });
}

/** Grade every prediction file of `resDir` against `datasetName`; writes `metrics.json`. */
export async function evaluateResultsDir(
  datasetName: string,
  resDir: string,
  opts: EvaluateOptions = {},
): Promise<Metrics> {
  const full = await loadDataset(datasetName, { dataDir: opts.dataDir });
  // A rast run over a --start/--end/--limit window wrote only those rows (run.json says which).
  const window = await runWindow(resDir);
  const dataset = window ? { ...full, rows: full.rows.slice(window.start, window.end) } : full;
  const files = await predictionFiles(resDir);
  const outputs = await Promise.all(
    files.map((f) => readOutputs(f, dataset.rows.length, dataset.name)),
  );
  const grader = opts.grader ?? new Grader(opts);
  const total = files.length * dataset.rows.length;
  let done = 0;
  let verdicts: Verdict[][];
  try {
    verdicts = await Promise.all(outputs.map((run) =>
      Promise.all(run.map(async (output, r) => {
        const verdict = await grader.grade(output, dataset.rows[r].gold, dataset.name);
        opts.onProgress?.(++done, total);
        return verdict;
      }))
    ));
  } finally {
    if (!opts.grader) grader.close();
  }
  const metrics = computeMetrics(dataset, verdicts, { k: opts.k });
  await writeFileAtomic(join(resDir, "verdicts.jsonl"), verdictsFileText(dataset.rows, verdicts));
  await writeFileAtomic(join(resDir, "metrics.json"), JSON.stringify(metrics, null, 2) + "\n");
  return metrics;
}

/**
 * verdicts.jsonl: one line per graded sample, sample-major then in row order, with `row` the
 * data file index: `{row, sample, extracted, gold, correct, timeout, error}` (error null if none).
 */
export function verdictsFileText(
  rows: readonly { index: number }[],
  verdicts: Verdict[][],
): string {
  const lines = verdicts.flatMap((run, sample) =>
    run.map((v, r) =>
      JSON.stringify({
        row: rows[r].index,
        sample,
        extracted: v.extracted,
        gold: v.gold,
        correct: v.correct,
        timeout: v.timeout,
        error: v.error ?? null,
      })
    )
  );
  return lines.join("\n") + (lines.length ? "\n" : "");
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The [start, end) row window recorded in a rast run.json beside the predictions, if any. */
async function runWindow(resDir: string): Promise<{ start: number; end: number } | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(resDir, "run.json"));
  } catch {
    return undefined; // the authors' folders have no run.json: the whole dataset
  }
  const window =
    (JSON.parse(text) as { settings?: { dataset?: { start?: unknown; end?: unknown } } })
      .settings?.dataset;
  const { start, end } = window ?? {};
  return Number.isInteger(start) && Number.isInteger(end)
    ? { start: start as number, end: end as number }
    : undefined;
}

/** A plain-text table of the headline metrics and breakdowns, maj@k under `majRule`. */
export function formatMetrics(m: Metrics, opts: { majRule?: MajRule } = {}): string {
  const authors = opts.majRule === "authors";
  const maj = authors ? m.majAtKAuthors : m.majAtK;
  const lines = [
    `${m.dataset}: ${m.questions} questions x ${m.samples} samples`,
    `  mean accuracy   ${pct(m.meanAccuracy)}`,
    `  run-0 accuracy  ${pct(m.run0Accuracy)}`,
    `  pass@k          ${Object.entries(m.passAtK).map(([k, v]) => `@${k} ${pct(v)}`).join("  ")}`,
    `  maj@k${authors ? " authors" : "        "}  ${
      Object.entries(maj).map(([k, v]) => `@${k} ${pct(v)}`).join("  ")
    }`,
    `  timeouts ${m.timeouts} · errors ${m.errors} · empty answers ${m.emptyAnswers}`,
  ];
  for (const [field, groups] of Object.entries(m.breakdowns)) {
    lines.push(`  by ${field}:`);
    const width = Math.max(...Object.keys(groups).map((k) => k.length));
    for (const [value, g] of Object.entries(groups)) {
      lines.push(
        `    ${value.padEnd(width)}  ${pct(g.meanAccuracy).padStart(6)}  (${g.questions})`,
      );
    }
  }
  return lines.join("\n");
}
