/**
 * Option declarations and value parsers shared by the commands (run, debug, demo, generate,
 * eval, grade). Declaring and parsing in one place keeps flags and their errors consistent.
 */
import { type Command, Option } from "commander";
import { UserError } from "../../engine/errors.ts";
import { AUTHORS_DATASET_NAMES, DATASETS } from "../../datasets/mod.ts";
import { PROMPT_TEMPLATES } from "../../datasets/prompts.ts";
import type { PairOption } from "../runs/plan.ts";

/** The names --dataset takes, from the registry (rast's names, then the authors' aliases). */
const DATASET_NAMES = `${Object.keys(DATASETS).join(", ")} (or ${
  Object.keys(AUTHORS_DATASET_NAMES).join(", ")
}), or a JSONL file`;

/**
 * The dataset option group, declared once: --dataset (`what` it is for; the names come from the
 * registry) and --data-dir.
 */
export function addDatasetOptions(command: Command, what?: string): Command {
  return command
    .option("--dataset <name|path>", what ? `${what}: ${DATASET_NAMES}` : DATASET_NAMES)
    .option(
      "--data-dir <dir>",
      "folder with <name>/test.jsonl (default: $RAST_DATA_DIR, else datasets/)",
    );
}

/**
 * The prompt option group, declared once: --prompt-template (the names come from
 * datasets/prompts.ts) and --stop, whose help says whether its strings replace the defaults.
 */
export function addPromptOptions(
  command: Command,
  opts: { templateDefault?: string; templateNote?: string; stopHelp: string },
): Command {
  const names = Object.keys(PROMPT_TEMPLATES).join(", ");
  return command
    .option(
      "--prompt-template <name|text|file>",
      `${names}, chat (the model's own), a string with {input}, or @file${
        opts.templateNote ? ` ${opts.templateNote}` : ""
      }`,
      opts.templateDefault,
    )
    .addOption(repeatable("--stop <text>", opts.stopHelp));
}

/** The grading option group of eval and grade: --timeout, --workers, --stop. */
export function addGradingOptions(command: Command): Command {
  return command
    .option("--timeout <seconds>", "time limit per answer comparison", "3")
    .option("--workers <n>", "worker threads for symbolic comparisons (default: CPUs)")
    .addOption(
      repeatable("--stop <text>", "cut outputs at this string, replacing the defaults"),
    );
}

/**
 * The model option group of run and debug: --base-model (`baseHelp` says its default) and the
 * steering pairs (--positive-model, --negative-model, --alpha, --pair, --small-models).
 */
export function addModelOptions(command: Command, baseHelp: string): Command {
  return addSteeringOptions(command.option("--base-model <dir|Org/Name>", baseHelp));
}

/** Per-command defaults of the sampling group (a benchmark run samples; generate is greedy). */
export interface SamplingDefaults {
  temperature: string;
  topP: string;
  /** Declare --top-k with this default (run has none: the authors' runs use top-p only). */
  topK?: string;
  seed: string;
  seedHelp: string;
}

/** The sampling option group, declared once: --temperature, --top-p, [--top-k], --seed. */
export function addSamplingOptions(command: Command, defaults: SamplingDefaults): Command {
  command
    .option("--temperature <number>", "sampling temperature (0 = greedy)", defaults.temperature)
    .option("--top-p <number>", "nucleus sampling mass, in (0, 1]", defaults.topP);
  if (defaults.topK !== undefined) {
    command.option(
      "--top-k <n>",
      "sample only among the k most likely tokens (0 = off)",
      defaults.topK,
    );
  }
  return command.option("--seed <n>", defaults.seedHelp, defaults.seed);
}

/** The sampling group's values as commander gives them. */
export interface RawSampling {
  temperature: string;
  topP: string;
  topK?: string;
  seed: string;
}

/** The sampling group, parsed and bounded (topK 0 where the command has no --top-k). */
export function parseSampling(
  raw: RawSampling,
): { temperature: number; topP: number; topK: number; seed: number } {
  return {
    temperature: number("--temperature", raw.temperature, { min: 0 }),
    topP: number("--top-p", raw.topP, { above: 0, max: 1 }),
    topK: raw.topK === undefined ? 0 : integer("--top-k", raw.topK, 0),
    seed: integer("--seed", raw.seed, 0, 2 ** 32 - 1),
  };
}

/** Commander parser for repeatable options. */
export const collect = (value: string, previous: string[] | undefined): string[] => [
  ...previous ?? [],
  value,
];

/** A repeatable option (its values arrive as a list). */
export function repeatable(flags: string, description: string): Option {
  return new Option(flags, `${description} (repeatable)`).argParser(collect);
}

/** --positive-model, --negative-model, --alpha, --pair (the base model flag is the command's). */
export function addSteeringOptions(command: Command): Command {
  return command
    .option("--positive-model <dir|Org/Name>", "the small RL-tuned model")
    .option("--negative-model <dir|Org/Name>", "the small model before RL")
    .option("--alpha <number>", "weight of the positive − negative logit delta", "1.0")
    .addOption(repeatable("--pair <POS:NEG:WEIGHT>", "another steering pair and its weight"))
    .option(
      "--small-models <whole|sharded>",
      "with --tensor-parallel-size: small models whole on the first device (faster), or split",
      "whole",
    );
}

/** --small-models, checked. */
export function parseSmallModels(text: string | undefined): "whole" | "sharded" {
  if (text === undefined || text === "whole" || text === "sharded") return text ?? "whole";
  throw new UserError(`--small-models "${text}" is not whole or sharded; pass one of them`);
}

/** --tensor-parallel-size, --dtype, --device, --enforce-eager. */
export function addDeviceOptions(command: Command): Command {
  return command
    .option("--tensor-parallel-size <n>", "GPUs (ranks) to split the base model across", "1")
    .option(
      "--dtype <type>",
      "float32, bfloat16 or float16 (default: float32 on CPU, the checkpoint's on a GPU)",
    )
    .option("--device <name>", "cpu or cuda:N (default: cuda:0 in a CUDA build, else cpu)")
    .option(
      "--enforce-eager",
      "no CUDA graphs: every decode step launches its kernels one by one (vLLM's name; for " +
        "comparing and debugging, slower)",
    );
}

/** The raw steering options as commander hands them over (addSteeringOptions). */
export interface RawSteering {
  smallModels?: string;
  positiveModel?: string;
  negativeModel?: string;
  alpha: string;
  pair?: string[];
}

/** The raw device options as commander hands them over (addDeviceOptions). */
export interface RawDevice {
  tensorParallelSize: string;
  dtype?: string;
  device?: string;
  enforceEager?: boolean;
}

/**
 * --positive-model/--negative-model with --alpha become the first pair, each --pair another.
 * `alphaGiven`: --alpha was typed, so it needs a pair to weigh.
 */
export function parsePairs(raw: RawSteering, alphaGiven: boolean): PairOption[] {
  const pairs: PairOption[] = [];
  const { positiveModel: positive, negativeModel: negative } = raw;
  if (positive !== undefined || negative !== undefined) {
    if (positive === undefined || negative === undefined) {
      const [has, lacks] = positive === undefined
        ? ["--negative-model", "--positive-model"]
        : ["--positive-model", "--negative-model"];
      throw new UserError(`${has} needs ${lacks}; pass both (or use --pair POS:NEG:WEIGHT)`);
    }
    pairs.push({ positive, negative, weight: number("--alpha", raw.alpha, WEIGHT_BOUNDS) });
  } else if (alphaGiven) {
    number("--alpha", raw.alpha);
    throw new UserError(
      `--alpha ${raw.alpha} needs --positive-model and --negative-model; pass them ` +
        "(with --pair, the weight is the third field)",
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
  return {
    positive: parts[0],
    negative: parts[1],
    weight: number("--pair weight", parts[2], WEIGHT_BOUNDS),
  };
}

/**
 * A pair's weight: beyond ±1000 the weighted delta swamps the base logits (and near 1e308 it
 * overflows float32 to infinity), so such a value is a typo, caught before any model loads.
 */
const WEIGHT_BOUNDS = { min: -1000, max: 1000 };

const DTYPES = ["float32", "bfloat16", "float16"] as const;
export type DtypeOption = typeof DTYPES[number];

/** --dtype, checked. */
export function parseDtype(dtype: string | undefined): DtypeOption | undefined {
  if (dtype === undefined) return undefined;
  if (!(DTYPES as readonly string[]).includes(dtype)) {
    throw new UserError(`--dtype "${dtype}" is not one of ${DTYPES.join(", ")}; pass one of them`);
  }
  return dtype as DtypeOption;
}

/** Comma-separated token ids. */
export function parseTokenIds(flag: string, text: string | undefined): number[] {
  if (text === undefined) throw new UserError(`${flag} is missing; pass ids such as 5,17,300`);
  const ids = text.split(",").map((s) => s.trim());
  if (ids.some((s) => !/^\d+$/.test(s))) {
    throw new UserError(
      `${flag} "${text}" is not a comma-separated list of ids; pass whole numbers such as 5,17,300`,
    );
  }
  return ids.map(Number);
}

/** A finite number within the bounds given. */
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

/** An optional whole number. */
export function optionalInteger(
  flag: string,
  text: string | undefined,
  min: number,
): number | undefined {
  return text === undefined ? undefined : integer(flag, text, min);
}
