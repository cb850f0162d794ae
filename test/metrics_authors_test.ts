/**
 * maj@k by the authors' rule against their math_eval_pred.py re-implemented here by brute force:
 * every k-subset in every order (their random.sample), Counter.most_common(1) (the first answer
 * to reach the top count), then random.choice among that answer's samples. On prediction folders
 * written as their run.py writes them, `rast eval` must report what that rule converges to, and
 * the TUI's live summary must equal metrics.json on the same verdicts. A grading worker that
 * fails shows up as an error in verdicts.jsonl and in the summary.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Grader } from "../datasets/grading/grader.ts";
import { evaluateResultsDir, formatMetrics } from "../tui/runs/evaluate.ts";
import { majAtK, passAtK, type Vote } from "../datasets/grading/vote.ts";
import { datasetFromAuthorsFolder } from "../tui/cli/eval_action.ts";
import { type SampleVerdict as Verdict, summarizeAccuracy } from "../tui/app/accuracy.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

/** Every ordered choice of k distinct indices of 0..n-1. */
function orderedSubsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  const out: number[][] = [];
  for (const rest of orderedSubsets(n, k - 1)) {
    for (let i = 0; i < n; i++) if (!rest.includes(i)) out.push([...rest, i]);
  }
  return out;
}

/** Their vote, averaged over every draw of random.sample and random.choice. */
function theirMajAtK(votes: Vote[], k: number): number {
  const draws = orderedSubsets(votes.length, k);
  let total = 0;
  for (const draw of draws) {
    const counts = new Map<string, number>(); // a Counter keeps first-insertion order
    for (const i of draw) counts.set(votes[i].extracted, (counts.get(votes[i].extracted) ?? 0) + 1);
    let top: string | undefined;
    for (const [pred, count] of counts) {
      if (top === undefined || count > counts.get(top)!) top = pred;
    }
    const members = draw.filter((i) => votes[i].extracted === top);
    total += members.filter((i) => votes[i].correct).length / members.length;
  }
  return total / draws.length;
}

const vote = (extracted: string, correct: boolean): Vote => ({ extracted, correct });

Deno.test("authors' maj@k equals their vote enumerated over every subset and tie-break", () => {
  const cases: Vote[][] = [
    [vote("2", true), vote("3", false), vote("3", false), vote("2", true), vote("", false)],
    [vote("a", true), vote("b", false), vote("c", false), vote("d", false)],
    [vote("13", false), vote("1,3", true), vote("13", false), vote("1,3", true), vote("7", false)],
    // one answer string graded both ways (a timeout): the chosen sample decides
    [vote("x", true), vote("x", false), vote("y", false), vote("x", true), vote("y", false)],
    [vote("5", false), vote("5", false), vote("5", false)],
  ];
  // and some random ones, seeded
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let c = 0; c < 12; c++) {
    const n = 2 + Math.floor(rand() * 5);
    cases.push(Array.from({ length: n }, () => {
      const answer = Math.floor(rand() * 3);
      return vote(String(answer), answer === 0 && rand() > 0.1);
    }));
  }
  for (const votes of cases) {
    for (let k = 1; k <= votes.length; k++) {
      const ours = majAtK(votes, k, "authors");
      const theirs = theirMajAtK(votes, k);
      assert.ok(
        Math.abs(ours - theirs) < 1e-12,
        `${JSON.stringify(votes)} k=${k}: ${ours} vs ${theirs}`,
      );
    }
  }
});

/** MATH-style rows and five runs of outputs, chosen for ties and near-duplicate strings. */
const ROWS = [
  { problem: "1+1?", solution: "It is $\\boxed{2}$.", answer: "2", level: 1 },
  { problem: "Digits of 13?", solution: "$\\boxed{1,3}$", answer: "1,3", level: 2 },
  { problem: "Half of 1?", solution: "$\\boxed{\\frac{1}{2}}$", answer: "\\frac{1}{2}", level: 3 },
  { problem: "3*3?", solution: "$\\boxed{9}$", answer: "9", level: 1 },
];
const ANSWERS = [
  ["2", "3", "3", "2", "4"],
  ["13", "1,3", "13", "1,3", "7"],
  ["\\frac12", "0.5", "1/2", "2", "2"],
  ["9", "9", "8", "none", "8"],
];
const PROMPT = "Question:\n{input}\nAnswer:\nLet's think step by step.\n";

/** A results folder as the authors' RAST_decode/run.py writes it for --dataset MATH. */
function writeAuthorsFolder(): { dataDir: string; resDir: string } {
  const dataDir = Deno.makeTempDirSync({ dir: TMP });
  Deno.mkdirSync(join(dataDir, "math500"));
  Deno.writeTextFileSync(
    join(dataDir, "math500", "test.jsonl"),
    ROWS.map((r) => JSON.stringify(r)).join("\n") + "\n",
  );
  const resDir = join(TMP, "results", "MATH", "14B_1.5B_alpha_1.0_temp_1.0");
  Deno.mkdirSync(resDir, { recursive: true });
  for (let i = 0; i < 5; i++) {
    const lines = ROWS.map((row, r) =>
      JSON.stringify({
        question: PROMPT.replace("{input}", row.problem),
        model_output: ANSWERS[r][i] === "none"
          ? "I am not sure."
          : `Some work.\nThe answer is $\\boxed{${ANSWERS[r][i]}}$.`,
        answer: row.answer,
        difficulty: row.level,
      })
    );
    Deno.writeTextFileSync(join(resDir, `prediction-${i}.jsonl`), lines.join("\n") + "\n");
  }
  return { dataDir, resDir };
}

Deno.test("eval on an authors' folder: maj@k as their rule converges, the TUI agrees, verdicts on disk", async () => {
  const { dataDir, resDir } = writeAuthorsFolder();
  assert.equal(datasetFromAuthorsFolder(resDir), "MATH");
  const metrics = await evaluateResultsDir("MATH", resDir, { dataDir, workers: 1 });
  const rows = Deno.readTextFileSync(join(resDir, "verdicts.jsonl")).trim().split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(rows.length, 20);
  assert.deepEqual(Object.keys(rows[0]), [
    "row",
    "sample",
    "extracted",
    "gold",
    "correct",
    "timeout",
    "error",
  ]);
  assert.equal(rows.filter((r) => r.error !== null).length, 0);
  const column = (r: number) =>
    rows.filter((v) => v.row === r).sort((a, b) => a.sample - b.sample)
      .map((v) => vote(v.extracted, v.correct));
  for (const k of [1, 2, 4, 5]) {
    const theirs = ROWS.reduce((sum, _, r) => sum + theirMajAtK(column(r), k), 0) / ROWS.length;
    assert.ok(Math.abs(metrics.majAtKAuthors[k] - theirs) < 1e-12, `maj@${k}`);
    const pass = ROWS.reduce((sum, _, r) => {
      const c = column(r).filter((v) => v.correct).length;
      return sum + passAtK(5, c, k);
    }, 0) / ROWS.length;
    assert.ok(Math.abs(metrics.passAtK[k] - pass) < 1e-12, `pass@${k}`);
  }
  // "13" and "1,3" are different answers to their Counter: row 1 is a 2–2 tie at k = 5
  assert.ok(metrics.majAtKAuthors[5] !== metrics.majAtK[5]);
  assert.match(metrics.definitions.passAtK, /expected value of the authors' pass@k/);

  const table = new Map<number, Map<number, Verdict>>();
  for (const v of rows) {
    if (!table.has(v.row)) table.set(v.row, new Map());
    table.get(v.row)!.set(v.sample, {
      request: v.row,
      sample: v.sample,
      correct: v.correct,
      extracted: v.extracted || null,
    });
  }
  for (const rule of ["equivalence", "authors"] as const) {
    const live = summarizeAccuracy(table, [1, 2, 4, 5], rule);
    const file = rule === "authors" ? metrics.majAtKAuthors : metrics.majAtK;
    assert.deepEqual(live.majAtK.map((m) => [m.k, m.value]), [1, 2, 4, 5].map((k) => [k, file[k]]));
    assert.deepEqual(live.passAtK.map((m) => m.value), [1, 2, 4, 5].map((k) => metrics.passAtK[k]));
    assert.equal(live.mean, metrics.meanAccuracy);
  }
  assert.match(formatMetrics(metrics, { majRule: "authors" }), /maj@k authors/);
});

Deno.test("a failing grading worker is an error in verdicts.jsonl and the summary, not a silent false", async () => {
  const dataDir = Deno.makeTempDirSync({ dir: TMP });
  Deno.mkdirSync(join(dataDir, "algebra"));
  const data = join(dataDir, "algebra", "test.jsonl");
  Deno.writeTextFileSync(data, JSON.stringify({ question: "Expand", answer: "(x+1)^2" }) + "\n");
  const resDir = Deno.makeTempDirSync({ dir: TMP });
  Deno.writeTextFileSync(
    join(resDir, "prediction-0.jsonl"),
    JSON.stringify({ model_output: "So $\\boxed{x^2+2x+1}$." }) + "\n",
  );
  const grader = new Grader({
    workers: 1,
    workerModule: new URL("./support/failing_grade_worker.ts", import.meta.url),
  });
  try {
    const metrics = await evaluateResultsDir(data, resDir, { grader });
    assert.equal(metrics.errors, 1);
    assert.equal(metrics.timeouts, 0);
    const [row] = Deno.readTextFileSync(join(resDir, "verdicts.jsonl")).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(row.correct, false);
    assert.match(row.error, /injected symbolic-stage failure/);
    assert.match(formatMetrics(metrics), /errors 1/);
  } finally {
    grader.close();
  }
});
