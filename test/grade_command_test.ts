/** `./rast grade`: JSONL in, one verdict line per input line out, same order. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "./support/paths.ts";

async function rast(
  args: string[],
  stdin = "",
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(join(REPO_ROOT, "rast"), {
    args,
    cwd: REPO_ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  const dec = new TextDecoder();
  return { code, out: dec.decode(stdout), err: dec.decode(stderr) };
}

const INPUT = [
  { output: "First $x = 3$, so the answer is $\\boxed{\\dfrac{1}{2}}$.", gold: "0.5" },
  { pred: "x = 5", gold: "5" },
  { pred: "5 m", gold: "5", dataset: "minerva_math" },
  { output: "The answer is 12 apples.", gold: "13" },
  { output: "", gold: "7" },
  { pred: "\\sqrt{8}", gold: "2\\sqrt{2}" },
].map((x) => JSON.stringify(x)).join("\n") + "\n";

const EXPECTED = [
  { extracted: "\\frac{1}{2}", gold: "0.5", correct: true, timeout: false },
  { extracted: "5", gold: "5", correct: true, timeout: false },
  { extracted: "5m", gold: "5", correct: false, timeout: false },
  { extracted: "12", gold: "13", correct: false, timeout: false },
  { extracted: "", gold: "7", correct: false, timeout: false },
  { extracted: "\\sqrt{8}", gold: "2\\sqrt{2}", correct: true, timeout: false },
];

Deno.test("grade reads stdin and writes verdicts in input order", async () => {
  const { code, out, err } = await rast(["grade", "--in", "-"], INPUT);
  assert.equal(code, 0, err);
  assert.deepEqual(out.trim().split("\n").map((l) => JSON.parse(l)), EXPECTED);
});

Deno.test("grade answers a blank line with an error record, so output line i is input line i", async () => {
  const lines = INPUT.trimEnd().split("\n");
  const withBlanks = [lines[0], "", lines[1], "   ", lines[3]].join("\n") + "\n";
  const { code, out, err } = await rast(["grade", "--in", "-"], withBlanks);
  assert.equal(code, 0, err);
  const got = out.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(got.length, 5, "one output line per input line");
  assert.deepEqual([got[0], got[2], got[4]], [EXPECTED[0], EXPECTED[1], EXPECTED[3]]);
  for (const [i, blank] of [[1, got[1]], [3, got[3]]] as const) {
    assert.equal(blank.correct, false);
    assert.match(blank.error, new RegExp(`<stdin>:${i + 1} is blank`));
  }
});

Deno.test("grade on 200 pathological lines stays within the timeout per line", async () => {
  // Answers whose extraction and normalisation used to take seconds each, outside the deadline
  // (a 100,000-digit answer: 19 s), with the verdicts the harness gives them.
  const kinds = [
    {
      line: { output: `The answer is \\boxed{${"9".repeat(100_000)}}`, gold: "5" },
      correct: false,
    },
    {
      line: {
        output: `So ${"{".repeat(5000)}x${"}".repeat(5000)} is $\\boxed{${"(".repeat(3000)}1${
          ")".repeat(3000)
        }}$`,
        gold: "1",
      },
      correct: true,
    },
    { line: { pred: "1.0".repeat(20_000), gold: "2" }, correct: false },
    { line: { pred: `${"7".repeat(50_000)}.000`, gold: "7".repeat(50_000) }, correct: true },
  ];
  const cases = Array.from({ length: 200 }, (_, i) => kinds[i % kinds.length]);
  const timeoutSeconds = 1;
  const workers = 2;
  const start = performance.now();
  const { code, out, err } = await rast(
    ["grade", "--in", "-", "--timeout", String(timeoutSeconds), "--workers", String(workers)],
    cases.map((c) => JSON.stringify(c.line)).join("\n") + "\n",
  );
  const seconds = (performance.now() - start) / 1000;
  assert.equal(code, 0, err);
  const verdicts = out.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(verdicts.length, 200);
  cases.forEach((c, i) => assert.equal(verdicts[i].correct, c.correct, `line ${i + 1}`));
  // Every line within its limit, two at a time.
  const bound = (200 * timeoutSeconds) / workers;
  assert.ok(seconds < bound, `took ${seconds.toFixed(1)} s, bound ${bound} s`);
});

Deno.test("grade reads and writes files; --dataset sets the rules of lines without one", async () => {
  const dir = await Deno.makeTempDir();
  const input = join(dir, "in.jsonl");
  const output = join(dir, "out.jsonl");
  await Deno.writeTextFile(input, JSON.stringify({ pred: "5 m", gold: "5" }) + "\n");
  const plain = await rast(["grade", "--in", input, "--out", output]);
  assert.equal(plain.code, 0, plain.err);
  assert.equal(JSON.parse(await Deno.readTextFile(output)).correct, true);
  const minerva = await rast([
    "grade",
    "--in",
    input,
    "--out",
    output,
    "--dataset",
    "minerva_math",
  ]);
  assert.equal(minerva.code, 0, minerva.err);
  assert.equal(JSON.parse(await Deno.readTextFile(output)).correct, false);
});

Deno.test("grade reports bad input lines by number and exits 2", async () => {
  const bad = `{"pred": "1", "gold": "1"}\n{"pred": 1, "gold": "1"}\n`;
  const r = await rast(["grade", "--in", "-"], bad);
  assert.equal(r.code, 2);
  assert.match(r.err, /<stdin>:2: needs a string "gold" and a string "output" or "pred"/);
  const missing = await rast(["grade", "--in", "/nonexistent/in.jsonl"]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /does not exist/);
  const timeout = await rast(["grade", "--in", "-", "--timeout", "zero"], "");
  assert.equal(timeout.code, 2);
  assert.match(timeout.err, /--timeout "zero" is not valid/);
});
