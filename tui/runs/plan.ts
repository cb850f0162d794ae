/**
 * Turns validated run options into a plan: the dataset window, resolved models, rendered prompts,
 * the run folder and what of it is already done. Reads only; writes nothing, loads no model.
 */
import { type ResolvedModel, resolveModel } from "../../engine/hub.ts";
import { ensureModel } from "../../engine/hub_download.ts";
import { existsSync } from "node:fs";
import { UserError } from "../../engine/errors.ts";
import { DEFAULT_STOP_STRINGS, renderPrompt } from "../../datasets/prompts.ts";
import { loadDataset } from "../../datasets/load.ts";
import { type MajRule } from "../../datasets/grading/mod.ts";
import { readJournal, type SampleRecord } from "./journal.ts";
import { type Layout, runDir, type RunPaths, runPaths, windowOf } from "./layout.ts";
import {
  checkRunFolder,
  configSha256,
  type ModelRecord,
  type RunRecord,
  type RunSettings,
  sha256,
  versions,
  weightsSha256,
} from "./run_json.ts";
import { ROW_SEED_RULE, rowSeed } from "./seeds.ts";
import { declaredStopIds, type StopId } from "../../engine/stop_ids.ts";
import { checkSharding, type Shard, shardPaths, shardSlice } from "./shards.ts";

/** One steering pair as given on the command line (model arguments not yet resolved). */
export interface PairOption {
  positive: string;
  negative: string;
  weight: number;
}

/** The run command's options after validation (see tui/cli/run_options.ts). */
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
  /** --stop strings, added to the template's (DEFAULT_STOP_STRINGS). */
  stopStrings?: string[];
  /** --stop-id ids, added to those the models declare. */
  stopIds?: number[];
  /** Folder names: rast's (rast names, default) or the authors' (their dataset names). */
  layout?: Layout;
  /** Which maj@k the summary and the TUI show (metrics.json holds both). */
  majRule?: MajRule;
  tensorParallelSize: number;
  dtype?: "float32" | "bfloat16" | "float16";
  device?: string;
  maxConcurrent?: number;
  start?: number;
  end?: number;
  limit?: number;
  outputDir: string;
  /** Run only this shard of the window's rows (--shard, or a Slurm array task's). */
  shard?: Shard;
  /**
   * A worker of --data-parallel-size with this many workers: the plan is shard 0 of the
   * queue's shards (planShard gives the others), as many as run.json records or queueShards.
   */
  queueWorkers?: number;
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
  /** --num-runs is above run.json's: the run grows (run.json is rewritten with the new count). */
  growing: boolean;
  /** --num-runs is below run.json's: only the first n samples are reported, nothing is written. */
  reportOnly: boolean;
  /** Samples of the first --num-runs already journalled, read without touching the file. */
  done: Map<string, SampleRecord>;
  /** Samples in the run: rows × num-runs. */
  total: number;
  /** The stop ids and where each came from (settings.stopIds lists the ids). */
  stopIds: StopId[];
  /**
   * Set when this plan is one shard: dataset, prompts, total, done and the journal and
   * checkpoint paths are then the shard's; this holds the whole window the shards make up.
   */
  sharded?: ShardedPlan;
}

/** The whole run a shard plan is part of. */
export interface ShardedPlan {
  shard: Shard;
  /** Every row of the window, and its prompts (the prediction files' rows). */
  window: RunDataset;
  windowPrompts: string[];
  /** The shard's lock file in the run folder. */
  lockName: string;
}

/** Builds the plan for `config`; throws UserError for anything the user must fix. */
export async function planRun(config: RunConfig): Promise<RunPlan> {
  const full = await loadDataset(config.dataset, { dataDir: config.dataDir });
  const { start, end } = windowOf(full.rows.length, config);
  const dataset: RunDataset = { name: full.name, rows: full.rows.slice(start, end) };

  const resolve = async (arg: string) => resolveModel(await ensureModel(arg));
  const baseModel = await resolve(config.baseModel);
  const pairs = [];
  for (const p of config.pairs) {
    pairs.push({
      positive: await resolve(p.positive),
      negative: await resolve(p.negative),
      weight: p.weight,
    });
  }
  const prompts = await Promise.all(
    dataset.rows.map((row) =>
      renderPrompt(config.promptTemplate, row.question, { modelDir: baseModel.path })
    ),
  );

  const stopIds = declaredStopIds({
    baseDir: baseModel.path,
    smallDirs: pairs.flatMap((p) => [p.positive.path, p.negative.path]),
    prompts,
    extra: config.stopIds,
  });
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
    stopStrings: [...new Set([...DEFAULT_STOP_STRINGS, ...config.stopStrings ?? []])],
    stopIds: stopIds.map((s) => s.id),
  };

  const paths = runPaths(runDir(config.outputDir, {
    layout: config.layout ?? "rast",
    dataset: dataset.name,
    base: baseModel,
    pairs: pairs.map((p) => ({ negative: p.negative.label, weight: p.weight })),
    temperature: config.temperature,
  }));
  const found = checkRunFolder(paths.dir, settings);
  const shard = config.shard ?? (config.queueWorkers === undefined ? undefined : {
    index: 0,
    count: found?.sharding?.count ?? queueShards(dataset.rows.length, config.queueWorkers),
  });
  if (found) checkSharding(paths.dir, found.sharding, shard);
  if (found?.sharding && found.settings.numRuns !== config.numRuns) {
    throw new UserError(
      `Run folder "${paths.dir}" is a sharded run of --num-runs ${found.settings.numRuns}; a sharded run cannot grow or shrink, so pass --num-runs ${found.settings.numRuns} or pick another --output-dir`,
    );
  }
  const recordedRuns = found?.settings.numRuns ?? config.numRuns;
  const growing = config.numRuns > recordedRuns;
  const existing = found && growing
    ? { ...found, settings: { ...found.settings, numRuns: config.numRuns } }
    : found;
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
    sharding: shard
      ? { count: shard.count, split: "contiguous", layout: config.layout ?? "rast" }
      : undefined,
  };
  const whole: RunPlan = {
    config,
    dataset,
    prompts,
    baseModel,
    pairs,
    paths,
    record,
    resuming: existing !== undefined,
    growing,
    reportOnly: config.numRuns < recordedRuns,
    done: new Map(),
    total: dataset.rows.length * config.numRuns,
    stopIds,
  };
  const plan = shard ? shardOf(whole, shard) : whole;
  if (existing) readDone(plan);
  return plan;
}

/**
 * How many shards a --data-parallel-size run of `rows` rows is cut into: several per worker,
 * so a worker that finishes early takes another and a slow shard does not hold the rest.
 */
export function queueShards(rows: number, workers: number): number {
  return Math.max(1, Math.min(rows, 4 * workers));
}

/** The plan of shard `index` of the run that `plan` (a shard's) is part of. */
export function planShard(plan: RunPlan, index: number): RunPlan {
  if (!plan.sharded) throw new Error("planShard needs the plan of a shard");
  const { window, windowPrompts, shard } = plan.sharded;
  const whole: RunPlan = {
    ...plan,
    dataset: window,
    prompts: windowPrompts,
    paths: runPaths(plan.paths.dir),
    done: new Map(),
  };
  const next = shardOf(whole, { index, count: shard.count });
  if (existsSync(next.paths.journal)) readDone(next);
  return next;
}

/** Fills plan.done from its journal (samples of the first --num-runs). */
function readDone(plan: RunPlan): void {
  for (const [key, r] of readJournal(plan.paths.journal).records) {
    if (r.sample < plan.config.numRuns) plan.done.set(key, r);
  }
}

/** The plan of one shard of `whole`: its rows, prompts, journal and checkpoints. */
function shardOf(whole: RunPlan, shard: Shard): RunPlan {
  const { start, end } = shardSlice(whole.dataset.rows.length, shard);
  const files = shardPaths(whole.paths.dir, shard);
  const rows = whole.dataset.rows.slice(start, end);
  return {
    ...whole,
    dataset: { name: whole.dataset.name, rows },
    prompts: whole.prompts.slice(start, end),
    paths: { ...whole.paths, journal: files.journal, inflight: files.inflight },
    done: new Map(),
    total: rows.length * whole.config.numRuns,
    sharded: {
      shard,
      window: whole.dataset,
      windowPrompts: whole.prompts,
      lockName: files.lockName,
    },
  };
}

function modelRecord(model: ResolvedModel): ModelRecord {
  return {
    path: model.path,
    label: model.label,
    hubId: model.hubId,
    revision: model.revision,
    configSha256: configSha256(model.path),
    weightsSha256: weightsSha256(model.path),
  };
}
