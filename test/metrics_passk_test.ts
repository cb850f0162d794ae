/** pass@k against brute-force subset enumeration; maj@k, accuracies and breakdowns by hand. */
import assert from "node:assert/strict";
import { computeMetrics, kValues, passAtK, type Verdict } from "../datasets/grading/mod.ts";
import { type Dataset } from "../datasets/load.ts";
import { UserError } from "../engine/errors.ts";

/** Fraction of the k-subsets of n samples (the first c correct) holding a correct one. */
function bruteForcePassAtK(n: number, c: number, k: number): number {
  let hits = 0;
  let total = 0;
  const visit = (start: number, chosen: number[]) => {
    if (chosen.length === k) {
      total++;
      if (chosen.some((i) => i < c)) hits++;
      return;
    }
    for (let i = start; i < n; i++) visit(i + 1, [...chosen, i]);
  };
  visit(0, []);
  return hits / total;
}

const v = (extracted: string, correct: boolean, timeout = false): Verdict => ({
  extracted,
  gold: "g",
  correct,
  timeout,
});

function dataset(n: number, fields: Record<string, unknown>[] = []): Dataset {
  return {
    name: "toy",
    rows: Array.from({ length: n }, (_, i) => ({
      index: i,
      question: `q${i}`,
      gold: "g",
      fields: fields[i] ?? {},
    })),
  };
}

Deno.test("passAtK equals brute-force enumeration for every n <= 10", () => {
  for (let n = 1; n <= 10; n++) {
    for (let c = 0; c <= n; c++) {
      for (let k = 1; k <= n; k++) {
        const expected = bruteForcePassAtK(n, c, k);
        assert.ok(Math.abs(passAtK(n, c, k) - expected) < 1e-12, `n=${n} c=${c} k=${k}`);
      }
    }
  }
});

Deno.test("computeMetrics pass@k is the per-question brute force, averaged", () => {
  // deterministic pseudo-random correctness for 6 questions x 8 samples
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const n = 8;
  const rows = 6;
  const verdicts = Array.from({ length: n }, () =>
    Array.from({ length: rows }, () => {
      const ok = rand() < 0.4;
      return v(ok ? "1" : "2", ok);
    }));
  const m = computeMetrics(dataset(rows), verdicts);
  assert.deepEqual(Object.keys(m.passAtK), ["1", "2", "4", "8"]);
  for (const k of [1, 2, 4, 8]) {
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const c = verdicts.filter((run) => run[r].correct).length;
      sum += bruteForcePassAtK(n, c, k);
    }
    assert.ok(Math.abs(m.passAtK[k] - sum / rows) < 1e-12, `pass@${k}`);
  }
  // pass@1 is the mean accuracy
  assert.ok(Math.abs(m.passAtK[1] - m.meanAccuracy) < 1e-12);
});

Deno.test("maj@k: the most frequent answer of the first k samples wins", () => {
  // samples (rows): q0 answers 5 5 7 7 7 (7 correct), q1 answers 3 4 4 3 9 (3 correct)
  const answers = [["5", "3"], ["5", "4"], ["7", "4"], ["7", "3"], ["7", "9"]];
  const correct = (a: string, r: number) => (r === 0 ? a === "7" : a === "3");
  const verdicts = answers.map((run) => run.map((a, r) => v(a, correct(a, r))));
  const m = computeMetrics(dataset(2), verdicts);
  // k=1: q0 "5" wrong, q1 "3" right -> 1/2
  assert.equal(m.majAtK["1"], 0.5);
  // k=2: q0 5,5 -> "5" wrong; q1 3,4 tie -> first seen "3" right -> 1/2
  assert.equal(m.majAtK["2"], 0.5);
  // k=4: q0 5,5,7,7 tie -> first seen "5" wrong; q1 3,4,4,3 tie -> "3" right -> 1/2
  assert.equal(m.majAtK["4"], 0.5);
  // k=5: q0 7 x3 right; q1 3,4 twice each, first seen "3" right -> 1
  assert.equal(m.majAtK["5"], 1);
  assert.deepEqual(Object.keys(m.majAtK), ["1", "2", "4", "5"]);
  assert.equal(m.perQuestion[0].majorityAnswer, "7");
  assert.equal(m.perQuestion[0].majorityCorrect, true);
  assert.equal(m.perQuestion[1].correct, 2);
});

Deno.test("maj@k votes over equivalent answers; ties go to the group seen first", () => {
  const one = (answers: [string, boolean][]) =>
    computeMetrics(dataset(1), answers.map(([a, ok]) => [v(a, ok)]));
  // 0.5 and 1/2 are both correct (equivalent through the gold): 2 votes, tie with "3" x2, first
  assert.equal(
    one([["0.5", true], ["3", false], ["\\frac{1}{2}", true], ["3", false]]).majAtK["4"],
    1,
  );
  // three spellings of the correct answer outvote "3" x2
  assert.equal(
    one([["3", false], ["0.5", true], ["3", false], ["\\frac{1}{2}", true], ["1/2", true]])
      .majAtK["5"],
    1,
  );
  // wrong numbers within rel. 1e-4 vote together: 2.00001 and 2 beat the single correct answer
  const m = one([["7", true], ["2", false], ["2.00001", false]]);
  assert.equal(m.majAtK["3"], 0);
  assert.equal(m.perQuestion[0].majorityAnswer, "2");
  // no answer is a group of its own and can win
  assert.equal(one([["", false], ["5", true], ["", false]]).majAtK["3"], 0);
});

Deno.test("mean and run-0 accuracy, timeouts, empty answers and breakdowns", () => {
  const fields = [
    { level: 1, subject: "Algebra" },
    { level: 1, subject: "Geometry" },
    { level: 2, subject: "Algebra" },
    { level: 5 },
  ];
  // 2 samples x 4 questions
  const verdicts = [
    [v("1", true), v("", false), v("3", true), v("x", false, true)],
    [v("1", true), v("2", true), v("0", false), v("", false)],
  ];
  const m = computeMetrics(dataset(4, fields), verdicts, { k: 2 });
  assert.equal(m.samples, 2);
  assert.equal(m.questions, 4);
  assert.equal(m.meanAccuracy, 4 / 8);
  assert.equal(m.run0Accuracy, 2 / 4);
  assert.equal(m.timeouts, 1);
  assert.equal(m.emptyAnswers, 2);
  assert.deepEqual(m.breakdowns.level, {
    "1": { questions: 2, meanAccuracy: (1 + 0.5) / 2, run0Accuracy: 0.5 },
    "2": { questions: 1, meanAccuracy: 0.5, run0Accuracy: 1 },
    "5": { questions: 1, meanAccuracy: 0, run0Accuracy: 0 },
  });
  assert.deepEqual(Object.keys(m.breakdowns.subject), ["Algebra", "Geometry"]);
  assert.equal(m.breakdowns.subject.Algebra.meanAccuracy, 0.75);
  assert.equal(m.breakdowns.type, undefined);
  // JSON-serialisable as is
  assert.deepEqual(JSON.parse(JSON.stringify(m)), m);
});

Deno.test("k values and their validation", () => {
  assert.deepEqual(kValues(32), [1, 2, 4, 8, 16, 32]);
  assert.deepEqual(kValues(10), [1, 2, 4, 8, 10]);
  assert.deepEqual(kValues(1), [1]);
  const verdicts = [[v("1", true)], [v("1", true)]];
  assert.throws(() => computeMetrics(dataset(1), verdicts, { k: 3 }), UserError);
  assert.throws(() => computeMetrics(dataset(2), verdicts), /has 1 verdicts/);
  assert.throws(() => computeMetrics(dataset(1), []), UserError);
});
