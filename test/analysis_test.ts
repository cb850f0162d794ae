/**
 * The analysis rules on hand-checked cases: behaviour phrases on English text, the token-stats
 * file (torn line, a redone sample), Δ cosine and Pearson against sums written out by hand, and
 * the boosted / suppressed ranking.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { countBehaviours, defaultBehaviours } from "../tui/analysis/behaviours.ts";
import { deltaSimilarity } from "../tui/analysis/mod.ts";
import type { RunData } from "../tui/analysis/run_data.ts";
import { analyzeRun, pearson } from "../tui/analysis/run_analysis.ts";
import type { StepStats } from "../engine/events.ts";
import {
  readTokenStats,
  type TokenStatsRecord,
  TokenStatsRecorder,
} from "../tui/analysis/token_stats.ts";
import type { RunSettings } from "../tui/runs/run_json.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-analysis-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

Deno.test("behaviour phrases: whole words, any case, whitespace inside a phrase", () => {
  const text = "Wait, let me check.\nWaiting is not waiting... but WAIT: let  me\ncheck again. " +
    "Alternatively, recheck; double-check it, double check it. Hmm.";
  const counts = countBehaviours(text, defaultBehaviours());
  // wait ×2 (Wait, WAIT; not Waiting/waiting) + hmm ×1
  assert.equal(counts.backtracking, 3);
  // "let me check" ×2 (one across a line break), double-check, double check; "recheck" is not one
  assert.equal(counts.verification, 4);
  assert.equal(counts.branching, 1);
});

function stats(over: Partial<StepStats>): StepStats {
  return {
    baseLogprob: -1,
    combinedLogprob: -0.5,
    delta: 0,
    boosted: [],
    suppressed: [],
    baseEntropy: 2,
    combinedEntropy: 1,
    klCombinedBase: 0.1,
    baseArgmax: 0,
    ...over,
  };
}

Deno.test("token-stats files: cancelled samples skipped, a torn last line dropped, the redone sample wins", () => {
  const dir = Deno.makeTempDirSync({ dir: TMP });
  const recorder = new TokenStatsRecorder(dir, { levels: new Map([[4, "Level 3"]]) });
  const token = (sample: number, id: number, delta: number, argmax: number) =>
    recorder.event({
      kind: "token",
      request: 4,
      sample,
      id,
      text: `t${id}`,
      stats: stats({ delta, baseArgmax: argmax, baseLogprob: -Infinity }),
    });
  token(0, 7, 0.25, 7);
  token(0, 8, -1.5, 9);
  recorder.event({ kind: "finished", request: 4, sample: 0, reason: "stop", text: "", tokens: [] });
  token(1, 5, 1, 5);
  recorder.event({
    kind: "finished",
    request: 4,
    sample: 1,
    reason: "cancelled",
    text: "",
    tokens: [],
  });
  // The same sample redone (after a crash that left it unjournalled): the later line is the one.
  token(0, 3, 2, 3);
  recorder.event({ kind: "finished", request: 4, sample: 0, reason: "stop", text: "", tokens: [] });
  Deno.writeTextFileSync(join(dir, "token-stats-0.jsonl"), '{"row":4,"sam', { append: true });

  const records = readTokenStats(dir);
  assert.deepEqual([...records.keys()], ["4:0"]);
  const r = records.get("4:0")!;
  assert.deepEqual(r.ids, [3]);
  assert.equal(r.level, "Level 3");
  assert.deepEqual(r.baseLogprob, [-Infinity]);
});

function record(row: number, ids: number[], delta: number[], argmax = ids): TokenStatsRecord {
  return {
    row,
    sample: 0,
    ids,
    pieces: ids.map((id) => `w${id}`),
    baseLogprob: ids.map(() => -1),
    combinedLogprob: ids.map(() => -1),
    delta,
    baseArgmax: argmax,
    baseEntropy: ids.map(() => 2),
    combinedEntropy: ids.map(() => 1),
  };
}

function runData(stats: TokenStatsRecord[], correct: boolean[], outputs: string[]): RunData {
  const samples = new Map(stats.map((r, i) => [`${r.row}:0`, {
    row: r.row,
    sample: 0,
    output: outputs[i],
    reason: "stop" as const,
    tokens: r.ids.length,
    verdict: { extracted: "", gold: "1", correct: correct[i], timeout: false },
  }]));
  const settings = {
    dataset: { name: "gsm8k" },
    pairs: [],
    temperature: 1,
  } as unknown as RunSettings;
  return { dir: "/x", settings, samples, stats: new Map(stats.map((r) => [`${r.row}:0`, r])) };
}

Deno.test("Δ similarity: cosine over each sample's common prefix of equal ids", () => {
  const run = runData([record(0, [1, 2, 3], [1, 2, 5]), record(1, [4, 5], [3, 0])], [true, false], [
    "",
    "",
  ]);
  const ref = runData([record(0, [1, 2, 9], [2, 1, 7]), record(2, [4, 5], [1, 1])], [true, true], [
    "",
    "",
  ]);
  const s = deltaSimilarity(run, ref);
  // Only row 0 is in both; its first two ids agree: a = (1, 2), b = (2, 1) → 4 / (√5 · √5).
  assert.equal(s.samples, 1);
  assert.equal(s.alignedTokens, 2);
  assert.ok(Math.abs(s.cosine! - 0.8) < 1e-12);
});

Deno.test("Pearson correlation against its hand-worked value; null without variance", () => {
  // x̄ 2.5, ȳ 0.5: Σ(x−x̄)(y−ȳ) = 2, Σ(x−x̄)² = 5, Σ(y−ȳ)² = 1, so r = 2 / √5
  assert.ok(Math.abs(pearson([1, 2, 3, 4], [0, 0, 1, 1])! - 2 / Math.sqrt(5)) < 1e-12);
  assert.equal(pearson([1, 1, 1], [0, 1, 0]), null);
});

Deno.test("a run's coverage by correctness, token ranking by summed delta, behaviour means", () => {
  const run = runData(
    [
      record(0, [1, 2, 1], [0.5, -1, 0.5], [1, 7, 1]),
      record(1, [2, 3], [-1, 3], [2, 3]),
    ],
    [true, false],
    ["wait, wait. hmm", "let me check"],
  );
  const a = analyzeRun(run, { behaviours: defaultBehaviours(), top: 5 });
  assert.deepEqual(a.pathCoverage.all, { tokens: 5, onBasePath: 4, share: 0.8 });
  assert.deepEqual(a.pathCoverage.correct, { tokens: 3, onBasePath: 2, share: 2 / 3 });
  assert.deepEqual(a.pathCoverage.incorrect, { tokens: 2, onBasePath: 2, share: 1 });
  // Token 3: +3 once; token 1: +0.5 twice; token 2: −1 twice.
  assert.deepEqual(a.tokens.boosted.map((t) => [t.id, t.count, t.totalDelta]), [[3, 1, 3], [
    1,
    2,
    1,
  ]]);
  assert.deepEqual(a.tokens.suppressed.map((t) => [t.id, t.count, t.meanDelta, t.text]), [[
    2,
    2,
    -1,
    "w2",
  ]]);
  assert.equal(a.behaviours.categories.backtracking.total, 3);
  assert.equal(a.behaviours.categories.backtracking.correctMean, 3);
  assert.equal(a.behaviours.categories.backtracking.incorrectMean, 0);
  assert.equal(a.behaviours.categories.backtracking.correlation, 1);
  assert.deepEqual(a.entropy.all, { tokens: 5, base: 2, combined: 1 });
});
