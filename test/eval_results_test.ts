/**
 * `./rast eval` on a synthetic results folder built from datasets/math500: the gold
 * solutions written as model outputs, some replaced by wrong or missing answers, so the expected
 * metrics follow from the construction alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DATASETS_DIR, REPO_ROOT } from "./support/paths.ts";
import { evaluateResultsDir } from "../tui/runs/evaluate.ts";
import { type Metrics } from "../datasets/grading/mod.ts";

const NO_ANSWER = "I could not solve it.";
/**
 * Row 97's gold is \text{east}; "east" is one of the harness's unit words, so the gold
 * normalises to "" and, by the harness's multiple-choice rule, every answer without the letters
 * A-E is cut down to "" and matches it. The authors' evaluator counts it correct; so do we.
 */
const ROW_ALWAYS_CORRECT = 97;

function replaceLastBoxed(solution: string, content: string): string {
  const start = solution.lastIndexOf("\\boxed{");
  let i = start + "\\boxed{".length;
  for (let depth = 1; depth > 0; i++) {
    if (solution[i] === "{") depth++;
    else if (solution[i] === "}") depth--;
  }
  return `${solution.slice(0, start)}\\boxed{${content}}${solution.slice(i)}`;
}

/** prediction-0: every gold solution; 1: rows i%4==0 unanswered; 2: even rows wrong; 3: none. */
async function buildResults(): Promise<string> {
  const rows = (await Deno.readTextFile(join(DATASETS_DIR, "math500", "test.jsonl")))
    .trim().split("\n").map((l) => JSON.parse(l) as { problem: string; solution: string });
  assert.equal(rows.length, 500);
  const runs = [
    (_i: number, s: string) => s,
    (i: number, s: string) => (i % 4 === 0 ? NO_ANSWER : s),
    (i: number, s: string) => (i % 2 === 0 ? replaceLastBoxed(s, "\\text{wrong}") : s),
    (_i: number, _s: string) => NO_ANSWER,
  ];
  const dir = await Deno.makeTempDir();
  for (const [k, output] of runs.entries()) {
    const lines = rows.map((r, i) =>
      JSON.stringify({ question: r.problem, model_output: output(i, r.solution), answer: "" })
    );
    await Deno.writeTextFile(join(dir, `prediction-${k}.jsonl`), lines.join("\n") + "\n");
  }
  return dir;
}

function assertExpectedMetrics(m: Metrics): void {
  // correct samples per row: i%4==0 -> 1, i%4==2 -> 2, odd -> 3, row 97 -> 4
  const counts = { one: 125, two: 125, three: 249, four: 1 };
  const total = counts.one + 2 * counts.two + 3 * counts.three + 4 * counts.four;
  assert.equal(m.questions, 500);
  assert.equal(m.samples, 4);
  assert.ok(Math.abs(m.meanAccuracy - total / 2000) < 1e-12, `mean ${m.meanAccuracy}`);
  assert.equal(m.run0Accuracy, 1);
  const pass2 = (counts.one * (1 - 3 / 6) + counts.two * (1 - 1 / 6) + counts.three + counts.four) /
    500;
  assert.ok(Math.abs(m.passAtK["1"] - total / 2000) < 1e-12);
  assert.ok(Math.abs(m.passAtK["2"] - pass2) < 1e-12);
  assert.equal(m.passAtK["4"], 1);
  // maj@4: rows i%4==0 vote "" (two unanswered) and lose; the rest keep the gold
  assert.deepEqual(m.majAtK, { "1": 1, "2": 1, "4": 375 / 500 });
  assert.equal(m.perQuestion[ROW_ALWAYS_CORRECT].correct, 4);
  assert.equal(m.timeouts, 0);
  // runs 1 and 3 unanswered, and row 97 (extracted "") in runs 0, 1 and 2
  assert.equal(m.emptyAnswers, 125 + 500 + 3);
  assert.equal(Object.values(m.breakdowns.level).reduce((n, g) => n + g.questions, 0), 500);
  assert.equal(Object.keys(m.breakdowns.subject).length, 7);
}

Deno.test("./rast eval reproduces the constructed accuracy and writes metrics.json", async () => {
  const dir = await buildResults();
  const run = await new Deno.Command(join(REPO_ROOT, "rast"), {
    args: ["eval", "--dataset", "math500", "--res-dir", dir, "--data-dir", DATASETS_DIR, "--json"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(run.stderr);
  assert.equal(run.code, 0, stderr);
  const printed = JSON.parse(new TextDecoder().decode(run.stdout)) as Metrics;
  assertExpectedMetrics(printed);
  const written = JSON.parse(await Deno.readTextFile(join(dir, "metrics.json"))) as Metrics;
  assert.deepEqual(written, printed);
});

Deno.test("evaluateResultsDir prints a table and honours --k", async () => {
  const dir = await buildResults();
  const m = await evaluateResultsDir("math500", dir, { dataDir: DATASETS_DIR, k: 2 });
  assert.deepEqual(Object.keys(m.passAtK), ["1", "2"]);
  const run = await new Deno.Command(join(REPO_ROOT, "rast"), {
    args: ["eval", "--dataset", "math500", "--res-dir", dir, "--data-dir", DATASETS_DIR],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const table = new TextDecoder().decode(run.stdout);
  assert.match(table, /mean accuracy\s+56\.3%/);
  assert.match(table, /run-0 accuracy\s+100\.0%/);
  assert.match(table, /by subject:/);
});

Deno.test("results folders that do not fit the dataset are refused with the reason", async () => {
  const dir = await Deno.makeTempDir();
  const opts = { dataDir: DATASETS_DIR };
  await assert.rejects(() => evaluateResultsDir("amc23", dir, opts), /No prediction-0\.jsonl/);
  const line = JSON.stringify({ model_output: "\\boxed{1}" });
  await Deno.writeTextFile(join(dir, "prediction-0.jsonl"), `${line}\n${line}\n`);
  await assert.rejects(() => evaluateResultsDir("amc23", dir, opts), /has 2 lines but dataset/);
  await Deno.writeTextFile(join(dir, "prediction-0.jsonl"), Array(40).fill(line).join("\n"));
  await Deno.writeTextFile(join(dir, "prediction-2.jsonl"), Array(40).fill(line).join("\n"));
  await assert.rejects(() => evaluateResultsDir("amc23", dir, opts), /no prediction-1\.jsonl/);
  await Deno.remove(join(dir, "prediction-2.jsonl"));
  const lines = Array(40).fill(line);
  lines[6] = '{"model_output": 3}';
  await Deno.writeTextFile(join(dir, "prediction-0.jsonl"), lines.join("\n"));
  await assert.rejects(() => evaluateResultsDir("amc23", dir, opts), /prediction-0\.jsonl:7:/);
});
