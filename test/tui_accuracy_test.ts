/** Running accuracy against hand-computed pass@k / maj@k values. */
import assert from "node:assert/strict";
import { passAtK as passAtKEstimate } from "../datasets/grading/vote.ts";
import {
  defaultKs,
  type SampleVerdict as Verdict,
  summarizeAccuracy,
  type VerdictTable,
} from "../tui/app/accuracy.ts";

const close = (actual: number | undefined, expected: number) =>
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) < 1e-12,
    `${actual} != ${expected}`,
  );

function table(verdicts: Verdict[]): VerdictTable {
  const out = new Map<number, Map<number, Verdict>>();
  for (const v of verdicts) {
    if (!out.has(v.request)) out.set(v.request, new Map());
    out.get(v.request)!.set(v.sample, v);
  }
  return out;
}

const v = (
  request: number,
  sample: number,
  correct: boolean,
  extracted: string | null,
): Verdict => ({
  request,
  sample,
  correct,
  extracted,
});

Deno.test("pass@k estimate matches 1 - C(n-c,k)/C(n,k) on small cases", () => {
  close(passAtKEstimate(4, 2, 1), 1 - 2 / 4);
  close(passAtKEstimate(4, 2, 2), 1 - 1 / 6);
  close(passAtKEstimate(5, 1, 2), 1 - 6 / 10);
  close(passAtKEstimate(4, 0, 2), 0);
  close(passAtKEstimate(4, 3, 2), 1);
  // n=32, c=1, k=16: C(31,16)/C(32,16) = 16/32.
  close(passAtKEstimate(32, 1, 16), 0.5);
  assert.throws(() => passAtKEstimate(2, 1, 4), /k <= n/);
});

Deno.test("default ks are the powers of two up to n, plus n", () => {
  assert.deepEqual(defaultKs(32), [1, 2, 4, 8, 16, 32]);
  assert.deepEqual(defaultKs(6), [1, 2, 4, 6]);
  assert.deepEqual(defaultKs(1), [1]);
  assert.deepEqual(defaultKs(0), []);
});

Deno.test("summary so far: mean, pass@k and maj@k over the requests with at least k verdicts", () => {
  const verdicts = table([
    // Request 0: correct T F T F, answers 42 41 42 7 (given out of order on purpose).
    v(0, 3, false, "7"),
    v(0, 0, true, "42"),
    v(0, 2, true, "42"),
    v(0, 1, false, "41"),
    // Request 1: F F F T, answers 3 3 – 5.
    v(1, 0, false, "3"),
    v(1, 1, false, "3"),
    v(1, 2, false, null),
    v(1, 3, true, "5"),
    // Request 2: one sample so far, correct: counts for k = 1 only.
    v(2, 0, true, "x"),
  ]);
  const s = summarizeAccuracy(verdicts);
  assert.equal(s.graded, 9);
  assert.equal(s.correct, 4);
  close(s.mean, 4 / 9);
  assert.deepEqual(s.passAtK.map((m) => [m.k, m.problems]), [[1, 3], [2, 2], [4, 2]]);
  close(s.passAtK[0].value, (0.5 + 0.25 + 1) / 3);
  close(s.passAtK[1].value, (5 / 6 + 0.5) / 2);
  close(s.passAtK[2].value, 1);
  // Equivalence vote over the first k. maj@1: 42 ✓, 3 ✗, x ✓; maj@2: {42, 41} tie → 42 ✓,
  // {3, 3} ✗; maj@4: the two correct 42s beat 41 and 7 ✓, {3, 3} beats –, 5 ✗.
  close(s.majAtK[0].value, 2 / 3);
  close(s.majAtK[1].value, 1 / 2);
  close(s.majAtK[2].value, 1 / 2);
});

Deno.test("summary with explicit ks skips ks no request has reached, and is empty at first", () => {
  const s = summarizeAccuracy(table([v(0, 0, true, "1"), v(0, 1, false, "2")]), [1, 8]);
  assert.deepEqual(s.passAtK.map((m) => m.k), [1]);
  close(s.passAtK[0].value, 0.5);
  const empty = summarizeAccuracy(new Map());
  assert.equal(empty.mean, undefined);
  assert.deepEqual(empty.passAtK, []);
});
