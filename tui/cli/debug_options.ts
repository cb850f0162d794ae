/**
 * Validation of `rast debug` options: every value is parsed and range-checked before any model
 * loads or file is written. Bad input throws one UserError line naming the fix.
 */
import { MINIARITH_PROMPT } from "../../datasets/miniarith.ts";
import { UserError } from "../../engine/errors.ts";
import type { PairOption } from "../runs/plan.ts";
import {
  integer,
  number,
  parseDtype,
  parsePairs,
  parseSampling,
  parseSmallModels,
  parseTokenIds,
  type RawDevice,
  type RawSteering,
} from "./options.ts";

/** The options as commander hands them over. */
export interface RawDebugOptions extends RawSteering, RawDevice {
  question?: string;
  dataset?: string;
  index?: string;
  dataDir?: string;
  tokens?: string;
  baseModel?: string;
  temperature: string;
  topP: string;
  topK: string;
  seed: string;
  maxTokens: string;
  promptTemplate?: string;
  stop?: string[];
  show: string;
  trace?: string;
  batch?: boolean;
}

/** Where the prompt comes from. */
export type DebugPrompt =
  | { kind: "question"; question: string }
  | { kind: "dataset"; dataset: string; index: number; dataDir?: string }
  | { kind: "tokens"; ids: number[] };

/** Validated options. */
export interface DebugConfig {
  prompt: DebugPrompt;
  /** Undefined: the trained miniarith trio, steered with `alpha` (pairs is then empty). */
  baseModel?: string;
  pairs: PairOption[];
  alpha: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  maxTokens: number;
  promptTemplate: string;
  stopStrings?: string[];
  show: number;
  trace?: string;
  tensorParallelSize: number;
  /** No CUDA graphs (--enforce-eager). */
  enforceEager: boolean;
  smallModels: "whole" | "sharded";
  dtype?: "float32" | "bfloat16" | "float16";
  device?: string;
  batch: boolean;
}

/** Parses and checks every option; `alphaGiven` says whether --alpha was typed. */
export function parseDebugOptions(
  raw: RawDebugOptions,
  opts: { alphaGiven: boolean },
): DebugConfig {
  const dtype = parseDtype(raw.dtype);
  if (raw.trace !== undefined && raw.trace.trim() === "") {
    throw new UserError("--trace is empty; pass a file path such as steps.jsonl");
  }
  const models = parseModels(raw, opts.alphaGiven);
  return {
    prompt: parsePrompt(raw),
    ...models,
    ...parseSampling(raw),
    maxTokens: integer("--max-tokens", raw.maxTokens, 1),
    promptTemplate: raw.promptTemplate ??
      (models.baseModel === undefined ? MINIARITH_PROMPT : "abel"),
    stopStrings: raw.stop,
    show: integer("--show", raw.show, 1, 50),
    trace: raw.trace,
    tensorParallelSize: integer("--tensor-parallel-size", raw.tensorParallelSize, 1),
    enforceEager: Boolean(raw.enforceEager),
    smallModels: parseSmallModels(raw.smallModels),
    dtype,
    device: raw.device,
    batch: Boolean(raw.batch),
  };
}

function parsePrompt(raw: RawDebugOptions): DebugPrompt {
  const given = [raw.question, raw.dataset, raw.tokens].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new UserError(
      `${given ? "Pass only one" : "No prompt given"}: pass one of --question TEXT, ` +
        "--dataset NAME --index N, or --tokens ID,ID,...",
    );
  }
  if (raw.index !== undefined && raw.dataset === undefined) {
    throw new UserError(`--index ${raw.index} needs --dataset; pass --dataset NAME as well`);
  }
  if (raw.question !== undefined) {
    if (raw.question.trim() === "") throw new UserError("--question is empty; pass the question");
    return { kind: "question", question: raw.question };
  }
  if (raw.dataset !== undefined) {
    const index = integer("--index", raw.index ?? "0", 0);
    return { kind: "dataset", dataset: raw.dataset, index, dataDir: raw.dataDir };
  }
  return { kind: "tokens", ids: parseTokenIds("--tokens", raw.tokens) };
}

function parseModels(
  raw: RawDebugOptions,
  alphaGiven: boolean,
): { baseModel?: string; pairs: PairOption[]; alpha: number } {
  const { baseModel } = raw;
  const alpha = number("--alpha", raw.alpha);
  // Without --base-model, --alpha alone weighs the miniarith trio's pair.
  const pairs = parsePairs(raw, alphaGiven && baseModel !== undefined);
  if (baseModel === undefined && pairs.length > 0) {
    throw new UserError("Steering models need --base-model; pass the base model folder or hub id");
  }
  if (baseModel !== undefined && baseModel.trim() === "") {
    throw new UserError("--base-model is empty; pass a model folder or a hub id Org/Name");
  }
  return { baseModel, pairs, alpha };
}
