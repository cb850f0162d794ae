/**
 * Assembling a sharded run: under the folder's lock (held only for this), every shard's
 * journal is read; when each holds all of its rows × numRuns samples, the prediction files,
 * verdicts.jsonl and metrics.json are written exactly as an unsharded run writes them. Each
 * shard tries this as it finishes, so the last one to finish assembles; `eval` can too
 * (assembleFolder, from the folder's run.json and the dataset).
 */
import { existsSync } from "node:fs";
import { loadDataset } from "../../datasets/load.ts";
import { type Metrics } from "../../datasets/grading/mod.ts";
import { renderPrompt } from "../../datasets/prompts.ts";
import { UserError } from "../../engine/errors.ts";
import { runPaths } from "./layout.ts";
import { readRunRecord, sha256 } from "./run_json.ts";
import { readJournal, sampleKey, type SampleRecord } from "./journal.ts";
import { RunLock } from "./lock.ts";
import { type RunOutputs, writeMetrics, writePrediction } from "./outputs.ts";
import { type Shard, shardPaths, shardSlice } from "./shards.ts";

/** What assembling found: how many shards are complete, and the metrics once all are. */
export interface Assembly {
  shardsDone: number;
  shardCount: number;
  /** Set when every shard was complete and the files are written. */
  metrics?: Metrics;
}

/** The journalled samples of each shard, and whether it holds all of them. */
export function readShards(
  out: RunOutputs,
  count: number,
): { shard: Shard; records: Map<string, SampleRecord>; complete: boolean }[] {
  const rows = out.dataset.rows;
  return Array.from({ length: count }, (_, index) => {
    const shard = { index, count };
    const { start, end } = shardSlice(rows.length, shard);
    const journal = readJournal(shardPaths(out.paths.dir, shard).journal).records;
    const records = new Map<string, SampleRecord>();
    let complete = true;
    for (const row of rows.slice(start, end)) {
      for (let s = 0; s < out.numRuns; s++) {
        const key = sampleKey(row.index, s);
        const record = journal.get(key);
        if (record) records.set(key, record);
        else complete = false;
      }
    }
    return { shard, records, complete };
  });
}

/** Assembles the run when every shard is complete; see the module comment. */
export async function assembleShards(
  out: RunOutputs,
  count: number,
  opts: { k?: number } = {},
): Promise<Assembly> {
  const lock = await RunLock.acquire(out.paths.dir, { wait: true });
  try {
    const shards = readShards(out, count);
    const shardsDone = shards.filter((s) => s.complete).length;
    if (shardsDone < count) return { shardsDone, shardCount: count };
    const records = new Map<string, SampleRecord>();
    for (const s of shards) for (const [key, r] of s.records) records.set(key, r);
    for (let sample = 0; sample < out.numRuns; sample++) {
      await writePrediction(out, sample, records);
    }
    const metrics = await writeMetrics(out, records, { k: opts.k });
    return { shardsDone, shardCount: count, metrics };
  } finally {
    lock.release();
  }
}

/**
 * Assembles the sharded run in folder `dir` (for `eval`), from its run.json and the dataset
 * (`dataset`, default run.json's name, looked up under `dataDir`). Returns undefined when the
 * folder holds no sharded run; throws UserError when a shard is unfinished or the data differ.
 */
export async function assembleFolder(
  dir: string,
  opts: { dataset?: string; dataDir?: string } = {},
): Promise<(Assembly & { dataset: string }) | undefined> {
  const runJson = runPaths(dir).runJson;
  if (!existsSync(runJson)) return undefined;
  const record = readRunRecord(runJson);
  if (!record.sharding) return undefined;
  const { settings, sharding } = record;
  const full = await loadDataset(opts.dataset ?? settings.dataset.name, { dataDir: opts.dataDir });
  const rows = full.rows.slice(settings.dataset.start, settings.dataset.end);
  const rowsSha256 = sha256(JSON.stringify(rows.map((r) => [r.index, r.question, r.gold])));
  if (rowsSha256 !== settings.dataset.rowsSha256) {
    throw new UserError(
      `The dataset's rows ${settings.dataset.start}..${settings.dataset.end} are not those the run in "${dir}" answered; pass the run's --dataset and --data-dir`,
    );
  }
  // Only the authors' layout writes prompts into the prediction files.
  const prompts = sharding.layout === "authors"
    ? await Promise.all(
      rows.map((r) =>
        renderPrompt(settings.promptTemplate, r.question, { modelDir: settings.baseModel.path })
      ),
    )
    : [];
  if (sharding.layout === "authors" && sha256(JSON.stringify(prompts)) !== settings.promptsSha256) {
    throw new UserError(
      `The prompts rendered now differ from those of the run in "${dir}" (template or model changed); restore them, or rerun`,
    );
  }
  const out: RunOutputs = {
    dataset: { name: full.name, rows },
    prompts,
    layout: sharding.layout,
    numRuns: settings.numRuns,
    paths: runPaths(dir),
  };
  const assembly = await assembleShards(out, sharding.count);
  if (!assembly.metrics) {
    throw new UserError(
      `Run folder "${dir}" is split into ${sharding.count} shards and ${assembly.shardsDone} are done; run the others (see ./rast status --res-dir "${dir}"), then eval again`,
    );
  }
  return { ...assembly, dataset: opts.dataset ?? settings.dataset.name };
}
