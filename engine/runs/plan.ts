/**
 * Turns validated run options into a plan: the dataset window, resolved models, rendered prompts,
 * the run folder and what of it is already done. Reads only; writes nothing, loads no model.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.ts";
import { type ResolvedModel, resolveModel } from "../hub.ts";
import { DEFAULT_STOP_STRINGS, loadDataset, renderPrompt } from "../eval/mod.ts";
import { readJournal, type SampleRecord } from "./journal.ts";
import { runFolderName, type RunPaths, runPaths, windowOf } from "./layout.ts";
import {
  checkRunFolder,
  configSha256,
  type ModelRecord,
  type RunRecord,
  type RunSettings,
  sha256,
  versions,
} from "./run_json.ts";
import { ROW_SEED_RULE, rowSeed } from "./seeds.ts";

/** One steering pair as given on the command line (model arguments not yet resolved). */
export interface PairOption {
  positive: string;
  negative: string;
  weight: number;
}

/** The run command's options after validation (see tui/commands/run_options.ts). */
export interface RunConfig {
  dataset: string;
  dataDir?: string;
  baseModel: string;
  pairs: PairOption[];
  temperature: number;
  topP: number;
  maxTokens: number;
  numRuns: number;
  seed: number;
  promptTemplate: string;
  stopStrings?: string[];
  tensorParallelSize: number;
  dtype?: "float32" | "bfloat16" | "float16";
  device?: string;
  maxConcurrent?: number;
  start?: number;
  end?: number;
  limit?: number;
  outputDir: string;
  /** The command line, recorded in run.json. */
  command?: string[];
}

/** A data row in the shape eval's loadDataset returns. */
export interface RunRow {
  /** Position in the data file (0-based). */
  index: number;
  question: string;
  gold: string;
  fields: Record<string, unknown>;
}

/** The rows a run covers: the --start/--end/--limit window of the data file, in file order. */
export interface RunDataset {
  name: string;
  rows: RunRow[];
}

/** Everything needed to start (or re-report) a run. */
export interface RunPlan {
  config: RunConfig;
  dataset: RunDataset;
  /** Rendered prompt of each window row, same order as dataset.rows. */
  prompts: string[];
  baseModel: ResolvedModel;
  pairs: { positive: ResolvedModel; negative: ResolvedModel; weight: number }[];
  paths: RunPaths;
  /** The run.json to write (or the one found, when resuming). */
  record: RunRecord;
  /** Whether run.json already exists (a resume or a finished run). */
  resuming: boolean;
  /** Samples already journalled, read without touching the file. */
  done: Map<string, SampleRecord>;
  /** Samples in the run: rows × num-runs. */
  total: number;
}

/** Builds the plan for `config`; throws UserError for anything the user must fix. */
export async function planRun(config: RunConfig): Promise<RunPlan> {
  const full = await loadDataset(config.dataset, { dataDir: config.dataDir });
  const { start, end } = windowOf(full.rows.length, config);
  const dataset: RunDataset = { name: full.name, rows: full.rows.slice(start, end) };

  const baseModel = resolveModel(config.baseModel);
  const pairs = config.pairs.map((p) => ({
    positive: resolveModel(p.positive),
    negative: resolveModel(p.negative),
    weight: p.weight,
  }));
  const prompts = await Promise.all(
    dataset.rows.map((row) =>
      renderPrompt(config.promptTemplate, row.question, { modelDir: baseModel.path })
    ),
  );

  const settings: RunSettings = {
    dataset: {
      name: dataset.name,
      rowsSha256: sha256(JSON.stringify(dataset.rows.map((r) => [r.index, r.question, r.gold]))),
      start,
      end,
    },
    baseModel: modelRecord(baseModel),
    pairs: pairs.map((p) => ({
      positive: modelRecord(p.positive),
      negative: modelRecord(p.negative),
      weight: p.weight,
    })),
    promptTemplate: config.promptTemplate,
    promptsSha256: sha256(JSON.stringify(prompts)),
    temperature: config.temperature,
    topP: config.topP,
    maxTokens: config.maxTokens,
    numRuns: config.numRuns,
    seed: config.seed,
    stopStrings: config.stopStrings ?? [...DEFAULT_STOP_STRINGS],
    stopIds: eosTokenIds(baseModel.path),
  };

  const folder = runFolderName(
    baseModel.label,
    pairs.map((p) => ({ negative: p.negative.label, weight: p.weight })),
    config.temperature,
  );
  const paths = runPaths(join(config.outputDir, dataset.name, folder));
  const existing = checkRunFolder(paths.dir, settings);
  const record: RunRecord = existing ?? {
    format: 1,
    settings,
    seeds: {
      seed: config.seed,
      rule: ROW_SEED_RULE,
      rows: Object.fromEntries(dataset.rows.map((r) => [r.index, rowSeed(config.seed, r.index)])),
    },
    engine: {
      tensorParallelSize: config.tensorParallelSize,
      dtype: config.dtype,
      device: config.device,
      maxConcurrent: config.maxConcurrent,
    },
    versions: versions(),
    command: config.command ?? [],
    createdAt: new Date().toISOString(),
  };
  const done = existing ? readJournal(paths.journal).records : new Map<string, SampleRecord>();
  return {
    config,
    dataset,
    prompts,
    baseModel,
    pairs,
    paths,
    record,
    resuming: existing !== undefined,
    done,
    total: dataset.rows.length * config.numRuns,
  };
}

function modelRecord(model: ResolvedModel): ModelRecord {
  return {
    path: model.path,
    label: model.label,
    hubId: model.hubId,
    revision: model.revision,
    configSha256: configSha256(model.path),
  };
}

/**
 * End-of-sequence ids of the base model (generation_config.json, else config.json), on which
 * generation stops as vLLM's does by default.
 */
export function eosTokenIds(modelDir: string): number[] {
  for (const file of ["generation_config.json", "config.json"]) {
    const path = join(modelDir, file);
    if (!existsSync(path)) continue;
    let eos: unknown;
    try {
      eos = JSON.parse(readFileSync(path, "utf8")).eos_token_id;
    } catch {
      throw new UserError(`"${path}" is not valid JSON; repair or re-download the model`);
    }
    const ids = (Array.isArray(eos) ? eos : [eos]).filter(Number.isInteger) as number[];
    if (ids.length) return ids;
  }
  return [];
}
