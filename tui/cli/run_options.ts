/**
 * Validation of `rast run` options: every value is parsed and range-checked here, before any
 * file is written or model loaded. Bad input throws one UserError line naming the fix.
 */
import { UserError } from "../../engine/errors.ts";
import type { RunConfig } from "../runs/plan.ts";
import { LAYOUTS } from "../runs/layout.ts";
import { MAJ_RULES } from "../../datasets/grading/vote.ts";
import { resolveShard } from "../runs/shards.ts";
import {
  integer,
  number,
  optionalInteger,
  parseDtype,
  parsePairs,
  parseSampling,
  parseSmallModels,
  type RawDevice,
  type RawSteering,
} from "./options.ts";

/** The options as commander hands them over (strings, flags, repeatable lists). */
export interface RawRunOptions extends RawSteering, RawDevice {
  dataset?: string;
  dataDir?: string;
  baseModel?: string;
  temperature: string;
  topP: string;
  maxTokens: string;
  numRuns: string;
  seed: string;
  promptTemplate: string;
  stop?: string[];
  stopId?: string[];
  layout?: string;
  majRule?: string;
  maxConcurrent?: string;
  kvMemory?: string;
  gpuMemoryUtilization?: string;
  blockSize?: string;
  deterministic?: boolean;
  enforceEager?: boolean;
  limit?: string;
  start?: string;
  end?: string;
  outputDir: string;
  wait?: boolean;
  batch?: boolean;
  json?: boolean;
  saveStats?: boolean;
  shard?: string;
  dataParallelSize?: string;
  dataParallelWorker?: string;
}

/** Validated options plus how to show progress. */
export interface RunCommandConfig extends RunConfig {
  /** No Ink: progress on stderr (set by --batch, --json, or a stdout that is not a terminal). */
  batch: boolean;
  /** JSONL events on stdout. */
  json: boolean;
  smallModels: "whole" | "sharded";
  /** Bytes the KV caches may take (--kv-memory GiB). */
  kvMemoryBytes?: number;
  /** Share of a GPU's memory rast may use in all (--gpu-memory-utilization). */
  gpuMemoryUtilization?: number;
  /** Positions per KV block (--block-size). */
  blockSize?: number;
  /** Batch-invariant arithmetic (--deterministic). */
  deterministic: boolean;
  /** No CUDA graphs (--enforce-eager). */
  enforceEager: boolean;
  /** --save-stats / --no-save-stats; undefined: on in the TUI, off in batch mode. */
  saveStats?: boolean;
  /** Queue behind another process holding the run folder instead of refusing (--wait). */
  wait: boolean;
  /** Worker processes taking shards from a shared queue (--data-parallel-size; 1: none). */
  dataParallelSize: number;
}

/**
 * The most --num-runs: the authors use 32, and 10,000 samples per question is far past any
 * pass@k anyone reports; a larger number is a typo, refused before anything loads.
 */
export const MAX_NUM_RUNS = 10_000;

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
  const dtype = parseDtype(raw.dtype);
  const sampling = parseSampling(raw);
  const config: RunCommandConfig = {
    dataset,
    dataDir: raw.dataDir,
    baseModel,
    pairs,
    temperature: sampling.temperature,
    topP: sampling.topP,
    seed: sampling.seed,
    maxTokens: integer("--max-tokens", raw.maxTokens, 1),
    numRuns: integer("--num-runs", raw.numRuns, 1, MAX_NUM_RUNS),
    promptTemplate: raw.promptTemplate,
    stopStrings: raw.stop,
    stopIds: (raw.stopId ?? []).map((id) => integer("--stop-id", id, 0, 2 ** 31 - 1)),
    layout: choice("--layout", raw.layout, LAYOUTS),
    majRule: choice("--maj-rule", raw.majRule, MAJ_RULES),
    tensorParallelSize: integer("--tensor-parallel-size", raw.tensorParallelSize, 1),
    dtype,
    device: raw.device,
    maxConcurrent: optionalInteger("--max-concurrent", raw.maxConcurrent, 1),
    limit: optionalInteger("--limit", raw.limit, 1),
    start: optionalInteger("--start", raw.start, 0),
    end: optionalInteger("--end", raw.end, 1),
    outputDir: required(raw.outputDir, "--output-dir", "a folder for results"),
    command: opts.command,
    batch: Boolean(raw.batch || raw.json),
    json: Boolean(raw.json),
    smallModels: parseSmallModels(raw.smallModels),
    kvMemoryBytes: raw.kvMemory === undefined
      ? undefined
      : Math.floor(number("--kv-memory", raw.kvMemory, { above: 0 }) * 2 ** 30),
    gpuMemoryUtilization: raw.gpuMemoryUtilization === undefined
      ? undefined
      : number("--gpu-memory-utilization", raw.gpuMemoryUtilization, { above: 0, max: 1 }),
    blockSize: optionalInteger("--block-size", raw.blockSize, 1),
    deterministic: Boolean(raw.deterministic),
    enforceEager: Boolean(raw.enforceEager),
    saveStats: raw.saveStats,
    wait: Boolean(raw.wait),
    shard: resolveShard(raw.shard),
    dataParallelSize: integer("--data-parallel-size", raw.dataParallelSize ?? "1", 1, 1024),
    queueWorkers: optionalInteger("--data-parallel-worker", raw.dataParallelWorker, 1),
  };
  if (config.dataParallelSize > 1 && config.shard) {
    throw new UserError(
      "--data-parallel-size splits the run into shards itself; drop --shard (or run it outside a Slurm job array)",
    );
  }
  if (config.start !== undefined && config.end !== undefined && config.end <= config.start) {
    throw new UserError(
      `--end ${config.end} is not after --start ${config.start}; pass an --end above ${config.start}`,
    );
  }
  return config;
}

function choice<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined || (allowed as readonly string[]).includes(value)) {
    return value as T | undefined;
  }
  throw new UserError(`${flag} "${value}" is not valid; pass ${allowed.join(" or ")}`);
}

function required(value: string | undefined, flag: string, what: string): string {
  if (value === undefined || value.trim() === "") {
    throw new UserError(`${flag} is missing; pass ${what}`);
  }
  return value;
}
