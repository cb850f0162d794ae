/**
 * Validation of `rast run` options: every value is parsed and range-checked here, before any
 * file is written or model loaded. Bad input throws one UserError line naming the fix.
 */
import { UserError } from "../../engine/errors.ts";
import type { PairOption, RunConfig } from "../../engine/runs/plan.ts";

/** The options as commander hands them over (strings, flags, repeatable lists). */
export interface RawRunOptions {
  dataset?: string;
  dataDir?: string;
  baseModel?: string;
  positiveModel?: string;
  negativeModel?: string;
  alpha: string;
  pair?: string[];
  temperature: string;
  topP: string;
  maxTokens: string;
  numRuns: string;
  seed: string;
  promptTemplate: string;
  stop?: string[];
  tensorParallelSize: string;
  dtype?: string;
  device?: string;
  maxConcurrent?: string;
  limit?: string;
  start?: string;
  end?: string;
  outputDir: string;
  batch?: boolean;
  json?: boolean;
}

/** Validated options plus how to show progress. */
export interface RunCommandConfig extends RunConfig {
  /** No Ink: progress on stderr (set by --batch, --json, or a stdout that is not a terminal). */
  batch: boolean;
  /** JSONL events on stdout. */
  json: boolean;
}

const DTYPES = ["float32", "bfloat16", "float16"] as const;

/** Parses and checks every option; `alphaGiven` says whether --alpha was typed (not defaulted). */
export function parseRunOptions(
  raw: RawRunOptions,
  opts: { alphaGiven: boolean; command?: string[] },
): RunCommandConfig {
  const dataset = required(
    raw.dataset,
    "--dataset",
    "a dataset name (math500, aime24, ...) or a JSONL path",
  );
  const baseModel = required(raw.baseModel, "--base-model", "a model folder or a hub id Org/Name");
  const pairs = parsePairs(raw, opts.alphaGiven);
  const dtype = raw.dtype;
  if (dtype !== undefined && !(DTYPES as readonly string[]).includes(dtype)) {
    throw new UserError(`--dtype "${dtype}" is not one of ${DTYPES.join(", ")}; pass one of them`);
  }
  const config: RunCommandConfig = {
    dataset,
    dataDir: raw.dataDir,
    baseModel,
    pairs,
    temperature: number("--temperature", raw.temperature, { min: 0 }),
    topP: number("--top-p", raw.topP, { above: 0, max: 1 }),
    maxTokens: integer("--max-tokens", raw.maxTokens, 1),
    numRuns: integer("--num-runs", raw.numRuns, 1),
    seed: integer("--seed", raw.seed, 0, 2 ** 32 - 1),
    promptTemplate: raw.promptTemplate,
    stopStrings: raw.stop,
    tensorParallelSize: integer("--tensor-parallel-size", raw.tensorParallelSize, 1),
    dtype: dtype as RunConfig["dtype"],
    device: raw.device,
    maxConcurrent: optionalInteger("--max-concurrent", raw.maxConcurrent, 1),
    limit: optionalInteger("--limit", raw.limit, 1),
    start: optionalInteger("--start", raw.start, 0),
    end: optionalInteger("--end", raw.end, 1),
    outputDir: required(raw.outputDir, "--output-dir", "a folder for results"),
    command: opts.command,
    batch: Boolean(raw.batch || raw.json),
    json: Boolean(raw.json),
  };
  if (config.start !== undefined && config.end !== undefined && config.end <= config.start) {
    throw new UserError(
      `--end ${config.end} is not after --start ${config.start}; pass an --end above ${config.start}`,
    );
  }
  return config;
}

function parsePairs(raw: RawRunOptions, alphaGiven: boolean): PairOption[] {
  const pairs: PairOption[] = [];
  const { positiveModel: positive, negativeModel: negative } = raw;
  if (positive !== undefined || negative !== undefined) {
    if (positive === undefined) {
      throw new UserError(
        `--negative-model needs --positive-model; pass both (or use --pair POS:NEG:WEIGHT)`,
      );
    }
    if (negative === undefined) {
      throw new UserError(
        `--positive-model needs --negative-model; pass both (or use --pair POS:NEG:WEIGHT)`,
      );
    }
    pairs.push({ positive, negative, weight: number("--alpha", raw.alpha) });
  } else if (alphaGiven) {
    number("--alpha", raw.alpha);
    throw new UserError(
      `--alpha ${raw.alpha} needs --positive-model and --negative-model; pass them (with --pair, the weight is the third field)`,
    );
  }
  for (const spec of raw.pair ?? []) pairs.push(parsePair(spec));
  return pairs;
}

/** Parses POS:NEG:WEIGHT. */
export function parsePair(spec: string): PairOption {
  const parts = spec.split(":");
  if (parts.length !== 3 || parts.some((p) => p.trim() === "")) {
    throw new UserError(
      `--pair "${spec}" is not POS:NEG:WEIGHT; pass e.g. --pair ./pos-model:./neg-model:0.5`,
    );
  }
  return { positive: parts[0], negative: parts[1], weight: number("--pair weight", parts[2]) };
}

function required(value: string | undefined, flag: string, what: string): string {
  if (value === undefined || value.trim() === "") {
    throw new UserError(`${flag} is missing; pass ${what}`);
  }
  return value;
}

/** A finite number within the bounds given (for option values). */
export function number(
  flag: string,
  text: string,
  bounds: { min?: number; above?: number; max?: number } = {},
): number {
  const value = text.trim() === "" ? NaN : Number(text);
  if (!Number.isFinite(value)) {
    throw new UserError(`${flag} "${text}" is not a number; pass a finite number such as 1.0`);
  }
  if (bounds.min !== undefined && value < bounds.min) {
    throw new UserError(`${flag} ${text} is below ${bounds.min}; pass ${bounds.min} or more`);
  }
  if (bounds.above !== undefined && value <= bounds.above) {
    throw new UserError(`${flag} ${text} must be above ${bounds.above}; pass a larger value`);
  }
  if (bounds.max !== undefined && value > bounds.max) {
    throw new UserError(`${flag} ${text} is above ${bounds.max}; pass ${bounds.max} or less`);
  }
  return value;
}

/** A whole number in [min, max]. */
export function integer(
  flag: string,
  text: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!/^\s*\d+\s*$/.test(text)) {
    throw new UserError(
      `${flag} "${text}" is not a whole number; pass one such as ${Math.max(min, 1)}`,
    );
  }
  const value = Number(text);
  if (value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `${min} to ${max}`;
    throw new UserError(`${flag} ${text} is out of range; pass ${range}`);
  }
  return value;
}

function optionalInteger(flag: string, text: string | undefined, min: number): number | undefined {
  return text === undefined ? undefined : integer(flag, text, min);
}
