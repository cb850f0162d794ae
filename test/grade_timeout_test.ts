/**
 * Pathological answers must come back as `timeout: true` within the limit, never hang, and
 * leave the grader usable (the stuck worker is terminated and replaced).
 */
import assert from "node:assert/strict";
import { Grader } from "../engine/eval/mod.ts";

/** Message passing and timer latency on a busy 2-core machine. */
const SLACK_MS = 1500;

/** Start the workers first: loading the compute engine is not part of a comparison's limit. */
async function warmUp(grader: Grader, workers: number): Promise<void> {
  const pairs = [["\\sqrt{8}", "2\\sqrt{2}"], ["\\sqrt{12}", "2\\sqrt{3}"]].slice(0, workers);
  const verdicts = await Promise.all(pairs.map(([p, g]) => grader.gradePred(p, g)));
  assert.ok(verdicts.every((v) => v.correct));
}

Deno.test("an exponent tower times out at the default 3 s limit", async () => {
  using grader = new Grader({ workers: 1 });
  assert.equal(grader.timeoutMs, 3000);
  await warmUp(grader, 1);
  const start = performance.now();
  // symbolic evaluation of 9^(9^(9^9)) runs for tens of seconds
  const v = await grader.gradePred("9^{9^{9^{9}}}", "1");
  const elapsed = performance.now() - start;
  assert.deepEqual(v, { extracted: "9^{9^{9^{9}}}", gold: "1", correct: false, timeout: true });
  assert.ok(elapsed >= 3000, `returned before the limit (${elapsed} ms)`);
  assert.ok(elapsed < 3000 + SLACK_MS, `took ${elapsed} ms`);
});

Deno.test("a deeply expanded power times out, other comparisons go on", async () => {
  using grader = new Grader({ workers: 2, timeoutMs: 800 });
  await warmUp(grader, 2);
  const start = performance.now();
  const [stuck, fine] = await Promise.all([
    grader.gradePred("9^{9^{9^{9}}}", "2"),
    grader.gradePred("\\sqrt{18}", "3\\sqrt{2}"),
  ]);
  assert.equal(stuck.timeout, true);
  assert.equal(stuck.correct, false);
  assert.deepEqual(fine, {
    extracted: "\\sqrt{18}",
    gold: "3\\sqrt{2}",
    correct: true,
    timeout: false,
  });
  assert.ok(performance.now() - start < 800 + SLACK_MS);
  // the terminated worker was replaced: symbolic comparisons still work
  const after = await grader.gradePred("x^2+2x+1", "(x+1)^2");
  assert.equal(after.correct, true);
  assert.equal(after.timeout, false);
});

Deno.test("Python integer powers too large to compute report a timeout at once", async () => {
  using grader = new Grader({ workers: 1, timeoutMs: 10_000 });
  await warmUp(grader, 1);
  const start = performance.now();
  // parse_latex rejects "(9**9**9)"; the harness's parse_expr then computes 9**9**9 exactly
  // and runs into its time limit (checked against the harness: still running after 6 s)
  const v = await grader.gradePred("(9**9**9)", "1");
  assert.equal(v.timeout, true);
  assert.ok(performance.now() - start < SLACK_MS);
});

Deno.test("close is idempotent and a closed grader refuses new work", async () => {
  const grader = new Grader({ workers: 1 });
  assert.equal((await grader.gradePred("5", "5")).correct, true);
  grader.close();
  grader.close();
  // a verdict already reached is still known; every new grade needs a worker
  assert.equal((await grader.gradePred("5", "5")).correct, true);
  await assert.rejects(() => grader.gradePred("05", "5"), /closed/);
});
