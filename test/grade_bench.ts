/**
 * Grading benchmark: 500 MATH-500 questions x 32 realistic model outputs (multi-paragraph
 * reasoning from the dataset's own solutions; right answers in several forms, wrong numbers,
 * wrong expressions, "the answer is" endings, cut-off outputs, runaway next questions).
 * Run: deno bench -A test/grade_bench.ts (or deno run -A for one pass); prints the wall time,
 * which must stay under 60 s on a 2-core machine.
 */
import { DATASETS_DIR } from "./support/paths.ts";
import { Grader, type Verdict } from "../datasets/grading/mod.ts";
import { loadDataset } from "../datasets/load.ts";

const SAMPLES = 32;

/** Deterministic generator (mulberry32) so every run grades the same outputs. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function withBoxed(solution: string, answer: string): string {
  const at = solution.lastIndexOf("\\boxed{");
  if (at < 0) return `${solution}\n\nThe final answer is $\\boxed{${answer}}$.`;
  let i = at + "\\boxed{".length;
  for (let depth = 1; depth > 0 && i < solution.length; i++) {
    if (solution[i] === "{") depth++;
    else if (solution[i] === "}") depth--;
  }
  return `${solution.slice(0, at)}\\boxed{${answer}}${solution.slice(i)}`;
}

/** Another correct spelling of a gold answer (decimal for fractions, spacing, dfrac, units). */
function restyle(gold: string, r: () => number): string {
  const frac = /^\\frac\{(-?\d+)\}\{(\d+)\}$/.exec(gold);
  if (frac && r() < 0.6) return String(Number(frac[1]) / Number(frac[2]));
  if (/^-?\d+$/.test(gold)) return r() < 0.5 ? `${gold}.0` : `${gold}\\text{ units}`;
  return gold.replaceAll("\\frac", "\\dfrac").replaceAll(",", ", ");
}

const REFLECTION = [
  "Let me double-check this by substituting back into the original condition.",
  "Wait, I should make sure I did not miss a case where the expression is negative.",
  "Alternatively, we can verify the computation numerically to be safe.",
];

/** One sampled output for a question. */
function sampleOutput(
  r: () => number,
  solution: string,
  gold: string,
  otherSolution: string,
): string {
  const reflection = REFLECTION[Math.floor(r() * REFLECTION.length)];
  const body = `${solution}\n\n${reflection} The steps above hold, so we keep the result.`;
  const roll = r();
  if (roll < 0.35) return body;
  if (roll < 0.45) return withBoxed(body, restyle(gold, r));
  if (roll < 0.7) return withBoxed(body, String(Math.floor(r() * 2000) - 500));
  if (roll < 0.82) return withBoxed(body, `${gold}+${1 + Math.floor(r() * 9)}`);
  if (roll < 0.87) return `${otherSolution}\n\nThe answer is ${gold}.`;
  if (roll < 0.93) return body.slice(0, Math.floor(body.length * (0.3 + 0.5 * r())));
  return `${body}\n\nQuestion:\nWhat is the next term?\nAnswer:\nLet's think step by step.\n` +
    `${otherSolution.slice(0, 400)} So the answer is $\\boxed{${Math.floor(r() * 100)}}$.`;
}

async function buildOutputs(): Promise<{ outputs: string[][]; golds: string[] }> {
  const ds = await loadDataset("math500", { dataDir: DATASETS_DIR });
  const r = rng(2024);
  const solutions = ds.rows.map((row) => String(row.fields.solution));
  const outputs = Array.from(
    { length: SAMPLES },
    () =>
      ds.rows.map((row, i) =>
        sampleOutput(r, solutions[i], row.gold, solutions[(i * 7 + 13) % solutions.length])
      ),
  );
  return { outputs, golds: ds.rows.map((row) => row.gold) };
}

/** Grades every output once (output building is not timed). */
async function timeGrading(
  bench?: Deno.BenchContext,
): Promise<{ seconds: number; verdicts: Verdict[] }> {
  const { outputs, golds } = await buildOutputs();
  using grader = new Grader();
  bench?.start();
  const start = performance.now();
  const verdicts = await Promise.all(
    outputs.flatMap((run) => run.map((output, i) => grader.grade(output, golds[i], "math500"))),
  );
  const seconds = (performance.now() - start) / 1000;
  bench?.end();
  return { seconds, verdicts };
}

function report({ seconds, verdicts }: { seconds: number; verdicts: Verdict[] }): void {
  const correct = verdicts.filter((v) => v.correct).length;
  const timeouts = verdicts.filter((v) => v.timeout).length;
  console.log(
    `graded ${verdicts.length} outputs (500 questions x ${SAMPLES} samples) in ` +
      `${seconds.toFixed(1)} s on ${navigator.hardwareConcurrency} CPUs ` +
      `(${Math.round(verdicts.length / seconds)}/s); ${correct} correct, ${timeouts} timeouts; ` +
      `target < 60 s: ${seconds < 60 ? "met" : "MISSED"}`,
  );
}

Deno.bench({
  name: "grade 500 questions x 32 samples",
  n: 1,
  warmup: 0,
  async fn(b) {
    report(await timeGrading(b));
  },
});

// `deno run -A test/grade_bench.ts` times a single pass
if (import.meta.main) report(await timeGrading());
