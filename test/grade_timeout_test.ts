/**
 * Pathological answers must come back as `timeout: true` within the limit, never hang, and
 * leave the grader usable (the stuck worker is terminated and replaced).
 */
import assert from "node:assert/strict";
import { Grader } from "../datasets/grading/mod.ts";

/** Message passing and timer latency on a busy 2-core machine. */
const SLACK_MS = 1500;

/** Start the workers first: loading the compute engine is not part of a comparison's limit. */
async function warmUp(grader: Grader, workers: number): Promise<void> {
  const pairs = [["\\sqrt{8}", "2\\sqrt{2}"], ["\\sqrt{12}", "2\\sqrt{3}"]].slice(0, workers);
  const verdicts = await Promise.all(pairs.map(([p, g]) => grader.gradePred(p, g)));
  assert.ok(verdicts.every((v) => v.correct));
}

/** CPU seconds this process (grading workers included) spends over `ms` of waiting. */
async function idleCpuSeconds(ms: number): Promise<number> {
  const cpu = () => {
    const fields = Deno.readTextFileSync(`/proc/${Deno.pid}/stat`).split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
  };
  const before = cpu();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return cpu() - before;
}

Deno.test("a slow symbolic comparison times out at the default 3 s limit and stops", async () => {
  using grader = new Grader({ workers: 1 });
  assert.equal(grader.timeoutMs, 3000);
  await warmUp(grader, 1);
  const start = performance.now();
  // comparing (x+y+z+w+1)^20 with (x+y+z+w+2)^20 ran 60 s on an idle core here (20 times the
  // limit, so a faster CI machine still cannot finish it; ^12 of three variables took 3 s)
  const v = await grader.gradePred("(x+y+z+w+1)^{20}", "(x+y+z+w+2)^{20}");
  const elapsed = performance.now() - start;
  assert.equal(v.timeout, true);
  assert.equal(v.correct, false);
  assert.ok(elapsed >= 3000, `returned before the limit (${elapsed} ms)`);
  assert.ok(elapsed < 3000 + SLACK_MS, `took ${elapsed} ms`);
  // the worker gives up by itself at its next deadline check and takes the next grade (a
  // terminated one would go on computing: Deno 2.9 cannot stop a busy worker)
  assert.equal((await grader.gradePred("2x", "x+x")).correct, true);
  const busy = await idleCpuSeconds(2000);
  assert.ok(busy < 0.5, `a worker still computes: ${busy} CPU s in 2 s`);
});

Deno.test("an exact power tower is a timeout at once, with no worker left computing", async () => {
  using grader = new Grader({ workers: 1 });
  await warmUp(grader, 1);
  const start = performance.now();
  // 9^(9^(9^9)) has about 1.2e9 bits: sympy never finishes it (the harness: a timeout), and
  // the bigint power would run in native code that terminate() cannot stop
  for (
    const [pred, gold] of [["9^{9^{9^{9}}}", "1"], ["x^{9^{9^{9}}}", "x"], ["(10^{10^{10}})!", "2"]]
  ) {
    const v = await grader.gradePred(pred, gold);
    assert.deepEqual([v.correct, v.timeout], [false, true], pred);
  }
  assert.ok(performance.now() - start < SLACK_MS);
  const busy = await idleCpuSeconds(2000);
  assert.ok(busy < 0.5, `a worker still computes: ${busy} CPU s in 2 s`);
  // small exact powers are still computed and compared
  assert.equal((await grader.gradePred("2^{2^{4}}", "65536")).correct, true);
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
