/**
 * The per-run figures of `rast analyze`: path coverage (the share of steps whose chosen token is
 * the base model's own argmax), entropy of base vs combined by difficulty, the chosen tokens the
 * delta boosts or suppresses most, and reasoning-behaviour counters with their correlation with
 * correctness. Every figure over tokens uses only samples with token-stats records.
 */
import { kValues, passAtK } from "../../datasets/grading/metrics.ts";
import type { SampleRecord } from "../runs/journal.ts";
import {
  addCounts,
  type BehaviourCounts,
  type BehaviourList,
  countBehaviours,
} from "./behaviours.ts";
import { alphaOf, type RunData } from "./run_data.ts";
import type { TokenStatsRecord } from "./token_stats.ts";

/** Steps on the base's path, of all steps. */
export interface Coverage {
  tokens: number;
  onBasePath: number;
  /** onBasePath / tokens (null with no tokens). */
  share: number | null;
}

/** Mean entropies (nats) over the steps of a group. */
export interface EntropyGroup {
  tokens: number;
  base: number | null;
  combined: number | null;
}

/** A chosen token's steps over the run. */
export interface TokenDeltaSummary {
  id: number;
  /** The piece its token events carried most often. */
  text: string;
  count: number;
  meanDelta: number;
  totalDelta: number;
}

/** One behaviour category over the run. */
export interface BehaviourSummary {
  total: number;
  perSample: number;
  correctMean: number | null;
  incorrectMean: number | null;
  /** Pearson correlation of the per-sample count with correctness (0/1); null without variance. */
  correlation: number | null;
}

/** Everything `analyze` reports of one run. */
export interface RunAnalysis {
  dir: string;
  dataset: string;
  alpha: number;
  temperature: number;
  samples: number;
  /** Samples with token-stats records. */
  samplesWithStats: number;
  accuracy: number | null;
  passAtK: { k: number; value: number }[];
  pathCoverage: {
    all: Coverage;
    byLevel: Record<string, Coverage>;
    correct: Coverage;
    incorrect: Coverage;
  };
  entropy: { all: EntropyGroup; byLevel: Record<string, EntropyGroup> };
  tokens: { boosted: TokenDeltaSummary[]; suppressed: TokenDeltaSummary[] };
  behaviours: {
    categories: Record<string, BehaviourSummary>;
    perSample: { row: number; sample: number; correct: boolean; counts: BehaviourCounts }[];
  };
}

/** Options of analyzeRun. */
export interface RunAnalysisOptions {
  behaviours: BehaviourList;
  /** Length of the boosted and suppressed lists (default 20). */
  top?: number;
}

/** Steps on the base's path in one record. */
export function coverageOf(records: Iterable<TokenStatsRecord>): Coverage {
  let tokens = 0;
  let onBasePath = 0;
  for (const r of records) {
    tokens += r.ids.length;
    r.ids.forEach((id, i) => {
      if (r.baseArgmax[i] === id) onBasePath++;
    });
  }
  return { tokens, onBasePath, share: tokens ? onBasePath / tokens : null };
}

function entropyOf(records: Iterable<TokenStatsRecord>): EntropyGroup {
  let tokens = 0;
  let base = 0;
  let combined = 0;
  for (const r of records) {
    tokens += r.ids.length;
    for (const h of r.baseEntropy) base += h;
    for (const h of r.combinedEntropy) combined += h;
  }
  return tokens
    ? { tokens, base: base / tokens, combined: combined / tokens }
    : { tokens, base: null, combined: null };
}

function groupBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(item);
  }
  return new Map([...groups].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true })));
}

/** Mean pass@k over rows, k = 1, 2, 4, ... up to the fewest samples any row has. */
export function passAtKOf(samples: Iterable<SampleRecord>): { k: number; value: number }[] {
  const rows = new Map<number, { n: number; c: number }>();
  for (const s of samples) {
    const row = rows.get(s.row) ?? { n: 0, c: 0 };
    row.n++;
    if (s.verdict.correct) row.c++;
    rows.set(s.row, row);
  }
  if (rows.size === 0) return [];
  const n = Math.min(...[...rows.values()].map((r) => r.n));
  return kValues(n).map((k) => {
    let sum = 0;
    for (const r of rows.values()) sum += passAtK(r.n, r.c, k);
    return { k, value: sum / rows.size };
  });
}

/** The chosen tokens with the largest and smallest summed delta over the run. */
function tokenDeltas(records: TokenStatsRecord[], top: number): RunAnalysis["tokens"] {
  const byId = new Map<number, { count: number; total: number; texts: Map<string, number> }>();
  for (const r of records) {
    r.ids.forEach((id, i) => {
      const entry = byId.get(id) ?? { count: 0, total: 0, texts: new Map() };
      entry.count++;
      entry.total += r.delta[i];
      entry.texts.set(r.pieces[i], (entry.texts.get(r.pieces[i]) ?? 0) + 1);
      byId.set(id, entry);
    });
  }
  const all: TokenDeltaSummary[] = [...byId].map(([id, e]) => {
    let text = "";
    let most = 0;
    for (const [t, n] of e.texts) if (n > most) [text, most] = [t, n];
    return { id, text, count: e.count, meanDelta: e.total / e.count, totalDelta: e.total };
  });
  const byTotal = (a: TokenDeltaSummary, b: TokenDeltaSummary) =>
    b.totalDelta - a.totalDelta || a.id - b.id;
  const boosted = all.filter((t) => t.totalDelta > 0).sort(byTotal).slice(0, top);
  const suppressed = all.filter((t) => t.totalDelta < 0).sort((a, b) => byTotal(b, a))
    .slice(0, top);
  return { boosted, suppressed };
}

/** Pearson correlation; null when either side has no variance. */
export function pearson(xs: readonly number[], ys: readonly number[]): number | null {
  const n = xs.length;
  if (n === 0 || ys.length !== n) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}

const mean = (xs: number[]) => xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;

/** Behaviour counts of every journalled sample's saved text, and their summary per category. */
function behavioursOf(
  samples: SampleRecord[],
  list: BehaviourList,
): RunAnalysis["behaviours"] {
  const perSample = samples.map((s) => ({
    row: s.row,
    sample: s.sample,
    correct: s.verdict.correct,
    counts: countBehaviours(s.output, list),
  }));
  const totals = perSample.reduce((acc, s) => addCounts(acc, s.counts), {} as BehaviourCounts);
  const categories: Record<string, BehaviourSummary> = {};
  for (const name of Object.keys(list)) {
    const counts = perSample.map((s) => s.counts[name]);
    const correct = perSample.filter((s) => s.correct).map((s) => s.counts[name]);
    const incorrect = perSample.filter((s) => !s.correct).map((s) => s.counts[name]);
    categories[name] = {
      total: totals[name] ?? 0,
      perSample: mean(counts) ?? 0,
      correctMean: mean(correct),
      incorrectMean: mean(incorrect),
      correlation: pearson(counts, perSample.map((s) => s.correct ? 1 : 0)),
    };
  }
  return { categories, perSample };
}

/** The figures of one run; see the module comment. */
export function analyzeRun(run: RunData, opts: RunAnalysisOptions): RunAnalysis {
  const samples = [...run.samples.values()].sort((a, b) => a.row - b.row || a.sample - b.sample);
  const keyed = [...run.stats].sort(([a], [b]) => a.localeCompare(b, "en", { numeric: true }));
  const records = keyed.map(([, r]) => r);
  const correctOf = new Map(keyed.map(([k]) => [k, run.samples.get(k)!.verdict.correct]));
  const byCorrect = groupBy(keyed, ([k]) => correctOf.get(k) ? "correct" : "incorrect");
  const byLevel = groupBy(records, (r) => r.level);
  const pick = (group: string) => (byCorrect.get(group) ?? []).map(([, r]) => r);
  const graded = samples.length;
  return {
    dir: run.dir,
    dataset: run.settings.dataset.name,
    alpha: alphaOf(run.settings),
    temperature: run.settings.temperature,
    samples: graded,
    samplesWithStats: records.length,
    accuracy: graded ? samples.filter((s) => s.verdict.correct).length / graded : null,
    passAtK: passAtKOf(samples),
    pathCoverage: {
      all: coverageOf(records),
      byLevel: Object.fromEntries([...byLevel].map(([level, rs]) => [level, coverageOf(rs)])),
      correct: coverageOf(pick("correct")),
      incorrect: coverageOf(pick("incorrect")),
    },
    entropy: {
      all: entropyOf(records),
      byLevel: Object.fromEntries([...byLevel].map(([level, rs]) => [level, entropyOf(rs)])),
    },
    tokens: tokenDeltas(records, opts.top ?? 20),
    behaviours: behavioursOf(samples, opts.behaviours),
  };
}
