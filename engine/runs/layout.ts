/**
 * Where a run's files live, in the RAST authors' layout:
 * `<output-dir>/<dataset>/<base>_<neg>_alpha_<α>_temp_<T>/prediction-<i>.jsonl`.
 */
import { join } from "node:path";
import { UserError } from "../errors.ts";

/** A steering pair's names and weight, as far as the folder name needs them. */
export interface PairLabel {
  negative: string;
  weight: number;
}

/**
 * Formats a number as Python's `str(float)` does (1 → "1.0", 0.5 → "0.5", 1e-5 → "1e-05"), so
 * folder names match those the authors' Python scripts made.
 */
export function formatPyFloat(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mantissa, exponent] = x.toExponential().split("e");
    const sign = exponent.startsWith("-") ? "-" : "+";
    const digits = exponent.replace(/^[+-]/, "").padStart(2, "0");
    return `${mantissa}e${sign}${digits}`;
  }
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/**
 * The run folder's name: `<base>_<neg>_alpha_<α>_temp_<T>`. Several pairs join their negative
 * names and weights with "+"; no pair at all is written as `<base>_none_alpha_0.0_temp_<T>`
 * (α = 0 is plain sampling from the base).
 */
export function runFolderName(base: string, pairs: PairLabel[], temperature: number): string {
  const negatives = pairs.length ? pairs.map((p) => p.negative).join("+") : "none";
  const alphas = pairs.length ? pairs.map((p) => formatPyFloat(p.weight)).join("+") : "0.0";
  return `${base}_${negatives}_alpha_${alphas}_temp_${formatPyFloat(temperature)}`;
}

/** Paths of one run's files. */
export interface RunPaths {
  dir: string;
  runJson: string;
  journal: string;
  metrics: string;
  prediction(sample: number): string;
}

/** The files of the run in `dir`. */
export function runPaths(dir: string): RunPaths {
  return {
    dir,
    runJson: join(dir, "run.json"),
    journal: join(dir, "journal.jsonl"),
    metrics: join(dir, "metrics.json"),
    prediction: (sample) => join(dir, `prediction-${sample}.jsonl`),
  };
}

/** The [start, end) window of a file of `rows` rows; throws UserError when it is empty or out of range. */
export function windowOf(
  rows: number,
  opts: { start?: number; end?: number; limit?: number },
): { start: number; end: number } {
  const start = opts.start ?? 0;
  let end = opts.end ?? rows;
  if (start >= rows) {
    throw new UserError(
      `--start ${start} is past the dataset's last row (it has ${rows} rows); pass --start below ${rows}`,
    );
  }
  if (end > rows) {
    throw new UserError(
      `--end ${end} is past the dataset's ${rows} rows; pass --end ${rows} or less`,
    );
  }
  if (end <= start) {
    throw new UserError(`--end ${end} is not after --start ${start}; pass an --end above ${start}`);
  }
  if (opts.limit !== undefined) end = Math.min(end, start + opts.limit);
  return { start, end };
}
