/**
 * `rast analyze`'s computation over several run folders: each run's figures (run_analysis.ts),
 * accuracy against α and pass@k against k across them, and with reference runs the cosine
 * similarity of the chosen tokens' deltas where both runs took the same path.
 */
import { type BehaviourList } from "./behaviours.ts";
import { loadRun, type RunData } from "./run_data.ts";
import { analyzeRun, type RunAnalysis } from "./run_analysis.ts";
import type { TokenStatsRecord } from "./token_stats.ts";

export { defaultBehaviours, loadBehaviours } from "./behaviours.ts";
export { findRunDirs } from "./run_data.ts";
export type { RunAnalysis } from "./run_analysis.ts";

/** Cosine similarity of a run's deltas against a reference run's. */
export interface DeltaSimilarity {
  dir: string;
  reference: string;
  /** Samples (row, sample) both runs hold records for. */
  samples: number;
  /** Steps compared: each such sample's common prefix of equal token ids. */
  alignedTokens: number;
  /** null when either side's deltas are all zero (or nothing aligned). */
  cosine: number | null;
}

/** The whole analysis.json. */
export interface Analysis {
  runs: RunAnalysis[];
  /** Accuracy by α, one point per run, ordered by dataset then α. */
  accuracyVsAlpha: { dataset: string; alpha: number; accuracy: number | null; dir: string }[];
  similarity: DeltaSimilarity[];
  behaviourList: BehaviourList;
  definitions: Record<string, string>;
}

/** What each figure is, written into analysis.json. */
export const DEFINITIONS: Record<string, string> = {
  pathCoverage: "share of generated tokens equal to the base model's own argmax at that step " +
    "(the steering kept the base's path), over samples with token-stats records",
  entropy: "mean over steps of the entropy (nats) of the base and of the combined distribution " +
    "after temperature",
  tokens: "chosen tokens ranked by their summed delta over the run; meanDelta = totalDelta / count",
  behaviours: "occurrences of the behaviour list's phrases in each journalled answer " +
    "(case-insensitive whole words); correlation is Pearson's with correctness as 0/1",
  similarity: "cosine of the chosen tokens' deltas over the steps where both runs generated " +
    "the same token ids so far (same row, same sample index)",
  passAtK:
    "mean over rows of the unbiased 1 - C(n-c,k)/C(n,k), k up to the fewest samples of a row",
};

/** Options of analyze. */
export interface AnalyzeOptions {
  behaviours: BehaviourList;
  /** Run folders whose deltas each run is compared with (the first of the same dataset). */
  referenceDirs?: string[];
  top?: number;
}

/** Analyses the run folders `dirs` (as findRunDirs lists them). */
export function analyze(dirs: string[], opts: AnalyzeOptions): Analysis {
  const runs = dirs.map(loadRun);
  const references = (opts.referenceDirs ?? []).map(loadRun);
  const analyses = runs.map((run) => analyzeRun(run, opts));
  const similarity: DeltaSimilarity[] = [];
  for (const run of runs) {
    const reference = references.find((r) =>
      r.dir !== run.dir && r.settings.dataset.name === run.settings.dataset.name
    );
    if (reference) similarity.push(deltaSimilarity(run, reference));
  }
  const accuracyVsAlpha = analyses
    .map((a) => ({ dataset: a.dataset, alpha: a.alpha, accuracy: a.accuracy, dir: a.dir }))
    .sort((a, b) => a.dataset.localeCompare(b.dataset) || a.alpha - b.alpha);
  return {
    runs: analyses,
    accuracyVsAlpha,
    similarity,
    behaviourList: opts.behaviours,
    definitions: DEFINITIONS,
  };
}

/** Steps where both records generated the same ids so far. */
function commonPrefix(a: TokenStatsRecord, b: TokenStatsRecord): number {
  let n = 0;
  while (n < a.ids.length && n < b.ids.length && a.ids[n] === b.ids[n]) n++;
  return n;
}

/** Cosine similarity of run's deltas to reference's over their aligned steps. */
export function deltaSimilarity(run: RunData, reference: RunData): DeltaSimilarity {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  let samples = 0;
  let alignedTokens = 0;
  for (const [key, a] of run.stats) {
    const b = reference.stats.get(key);
    if (!b) continue;
    samples++;
    const n = commonPrefix(a, b);
    alignedTokens += n;
    for (let i = 0; i < n; i++) {
      dot += a.delta[i] * b.delta[i];
      aa += a.delta[i] ** 2;
      bb += b.delta[i] ** 2;
    }
  }
  const cosine = aa > 0 && bb > 0 ? dot / Math.sqrt(aa * bb) : null;
  return { dir: run.dir, reference: reference.dir, samples, alignedTokens, cosine };
}
