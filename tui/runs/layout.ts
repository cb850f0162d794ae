/**
 * Where a run's files live. Layout "rast": `<output-dir>/<dataset>/<base>_<neg>_alpha_<α>_temp_<T>/`
 * with rast's dataset names and the models' folder names. Layout "authors", as their
 * RAST_decode/run.py and run_vllm.py name folders: `<output-dir>/<DATASET>/<base suffix>_<neg
 * suffix>_alpha_<α>_temp_<T>/` (DATASET MATH, AIME, ...; a suffix is the name's last "-" part:
 * Qwen2.5-14B → 14B), and a base-only run in `<output-dir>/baseline/<DATASET>/<Org-Name>_temp_<T>/`.
 * Both hold prediction-<i>.jsonl.
 */
import { join } from "node:path";
import { authorsDatasetName } from "../../datasets/mod.ts";
import { UserError } from "../../engine/errors.ts";
import { makeDirDurable } from "./atomic.ts";

/** Which folder names a run uses. */
export type Layout = "rast" | "authors";

/** The layouts by name, for option parsing. */
export const LAYOUTS: readonly Layout[] = ["rast", "authors"];

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

/** What a run folder's name is made of. */
export interface RunDirParts {
  layout: Layout;
  /** rast's dataset name (math500, ...) or a data file's stem. */
  dataset: string;
  /** The base model: its folder name, and its hub id when it has one. */
  base: { label: string; hubId?: string };
  pairs: PairLabel[];
  temperature: number;
}

/** The authors' suffix of a model name: the part after its last "-" (Qwen2.5-1.5B → 1.5B). */
function authorsSuffix(name: string): string {
  return name.split("-").at(-1)!;
}

/**
 * The run folder under `outputDir`. The authors' layout names one pair (their run.py takes one
 * negative model and one alpha): with several, the first pair's names the folder.
 */
export function runDir(outputDir: string, parts: RunDirParts): string {
  const { base, pairs, temperature } = parts;
  if (parts.layout === "rast") {
    return join(outputDir, parts.dataset, runFolderName(base.label, pairs, temperature));
  }
  const dataset = authorsDatasetName(parts.dataset) ?? parts.dataset;
  const temp = formatPyFloat(temperature);
  if (pairs.length === 0) {
    const name = (base.hubId ?? base.label).replaceAll("/", "-");
    return join(outputDir, "baseline", dataset, `${name}_temp_${temp}`);
  }
  const [first] = pairs;
  const folder = `${authorsSuffix(base.label)}_${authorsSuffix(first.negative)}_alpha_${
    formatPyFloat(first.weight)
  }_temp_${temp}`;
  return join(outputDir, dataset, folder);
}

/** Paths of one run's files. */
export interface RunPaths {
  dir: string;
  runJson: string;
  journal: string;
  /** Checkpoints of samples being decoded (mid-sample resume). */
  inflight: string;
  metrics: string;
  verdicts: string;
  prediction(sample: number): string;
}

/** The files of the run in `dir`. */
export function runPaths(dir: string): RunPaths {
  return {
    dir,
    runJson: join(dir, "run.json"),
    journal: join(dir, "journal.jsonl"),
    inflight: join(dir, "inflight.jsonl"),
    metrics: join(dir, "metrics.json"),
    verdicts: join(dir, "verdicts.jsonl"),
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

/** Creates the run folder, turning the OS's refusal into one line that names the fix. */
export function makeRunDir(dir: string): void {
  try {
    makeDirDurable(dir);
    if (!Deno.statSync(dir).isDirectory) fail(dir, "it is not a folder");
  } catch (err) {
    if (err instanceof UserError) throw err;
    const why = err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : err instanceof Deno.errors.AlreadyExists || err instanceof Deno.errors.NotADirectory
      ? "a file is in the way"
      : err instanceof Error
      ? err.message
      : String(err);
    fail(dir, why);
  }
}

function fail(dir: string, why: string): never {
  throw new UserError(
    `Cannot create the run folder "${dir}": ${why}; pass an --output-dir you can write to`,
  );
}
