/**
 * `rast run --save-stats` then `rast analyze` on the tiny trio (real engine, random weights):
 * path coverage equals the share `rast debug --trace` finds on the same seeds, behaviour
 * counters equal a plain count over the saved answers, and --plot writes real PNGs.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { rowSeed } from "../tui/runs/seeds.ts";
import { FIXTURES_DIR, REPO_ROOT } from "./support/paths.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-analyze-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

const QUESTIONS = ["What is 0 + 1?", "What is 1 + 1?", "What is 2 + 1?"];
const LEVELS = ["Level 1", "Level 2", "Level 1"];
const TRIO = ["base", "pos", "neg"].map((m) => join(FIXTURES_DIR, m));
/** A low temperature, so the steered and the base argmax sometimes agree and sometimes not. */
const DECODING = ["--temperature", "0.3", "--top-p", "0.95", "--max-tokens", "24"];

async function rast(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", join(REPO_ROOT, "main.ts"), ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

function dataDir(): string {
  const dir = join(TMP, "data");
  Deno.mkdirSync(join(dir, "gsm8k"), { recursive: true });
  const lines = QUESTIONS.map((question, i) =>
    JSON.stringify({ question, answer: `#### ${i + 1}`, level: LEVELS[i] })
  );
  Deno.writeTextFileSync(join(dir, "gsm8k", "test.jsonl"), lines.join("\n") + "\n");
  return dir;
}

async function runAt(alpha: string, out: string, data: string): Promise<string> {
  const result = await rast([
    "run",
    "--batch",
    "--save-stats",
    "--dataset",
    "gsm8k",
    "--data-dir",
    data,
    "--base-model",
    TRIO[0],
    "--positive-model",
    TRIO[1],
    "--negative-model",
    TRIO[2],
    "--alpha",
    alpha,
    "--dtype",
    "float32",
    "--num-runs",
    "1",
    "--max-concurrent",
    "1",
    "--prompt-template",
    "{input}",
    "--output-dir",
    out,
    ...DECODING,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const runs = join(out, "gsm8k");
  const dir = readdirSync(runs).find((d) => d.includes(`alpha_${alpha}`));
  assert.ok(dir, `no run folder for α ${alpha} in ${readdirSync(runs)}`);
  return join(runs, dir);
}

/** Steps of `rast debug --trace` for row `row` of the run at α: chosen id and base argmax. */
async function traceOf(row: number, alpha: string): Promise<{ id: number; argmax: number }[]> {
  const trace = join(TMP, `trace-${alpha}-${row}.jsonl`);
  // The tiny base has no tokenizer.json: `rast run` feeds the prompt's UTF-8 bytes as ids.
  const ids = [...new TextEncoder().encode(QUESTIONS[row])].join(",");
  const result = await rast([
    "debug",
    "--batch",
    "--tokens",
    ids,
    "--base-model",
    TRIO[0],
    "--positive-model",
    TRIO[1],
    "--negative-model",
    TRIO[2],
    "--alpha",
    alpha,
    "--dtype",
    "float32",
    // Sample 0 of row r is seeded from rowSeed(--seed 0, r), as debug seeds its one sample.
    "--seed",
    String(rowSeed(0, row)),
    "--trace",
    trace,
    ...DECODING,
  ]);
  assert.equal(result.code, 0, result.stderr);
  return Deno.readTextFileSync(trace).trim().split("\n").map((line) => {
    const step = JSON.parse(line);
    return { id: step.chosen.id, argmax: step.stats.baseArgmax };
  });
}

/** Occurrences of `phrase` as a run of whole space-separated words of `text`. */
function plainCount(text: string, phrase: string): number {
  const words = text.split(/\s+/).filter((w) => w !== "");
  const want = phrase.split(" ");
  let n = 0;
  for (let i = 0; i + want.length <= words.length; i++) {
    if (want.every((w, j) => words[i + j] === w)) n++;
  }
  return n;
}

Deno.test("analyze on the tiny trio: coverage as debug --trace finds it, counters as a plain count, figures", async () => {
  const data = dataDir();
  const out = join(TMP, "results");
  const low = await runAt("0.3", out, data);
  const high = await runAt("1.0", out, data);

  // Coverage from debug --trace, the independent path: one sequence stepped by hand.
  const traces = await Promise.all(QUESTIONS.map((_, row) => traceOf(row, "0.3")));
  const onPath = (steps: { id: number; argmax: number }[]) =>
    steps.filter((s) => s.id === s.argmax).length;
  const tokens = traces.reduce((n, t) => n + t.length, 0);
  const hits = traces.reduce((n, t) => n + onPath(t), 0);
  assert.ok(hits > 0 && hits < tokens, `coverage ${hits}/${tokens} should be strictly between`);

  // A word list made of words the answers hold (the random trio writes token ids as words).
  const outputs = (dir: string) =>
    Deno.readTextFileSync(join(dir, "prediction-0.jsonl")).trim().split("\n")
      .map((line) => JSON.parse(line).model_output as string);
  const texts = [...outputs(low), ...outputs(high)];
  const words = texts.join(" ").split(/\s+/).filter((w) => w !== "");
  const list = {
    first: [words[0], words[5]],
    pairs: [`${words[1]} ${words[2]}`],
    absent: ["wait"],
  };
  const listPath = join(TMP, "words.json");
  Deno.writeTextFileSync(listPath, JSON.stringify(list));

  const figures = join(TMP, "figures");
  const result = await rast([
    "analyze",
    "--res-dir",
    out,
    "--behaviours",
    listPath,
    "--output",
    figures,
    "--plot",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const analysis = JSON.parse(Deno.readTextFileSync(join(figures, "analysis.json")));
  const run = analysis.runs.find((r: { dir: string }) => r.dir === low);
  assert.deepEqual(run.pathCoverage.all, { tokens, onBasePath: hits, share: hits / tokens });
  for (const level of new Set(LEVELS)) {
    const rows = LEVELS.flatMap((l, i) => l === level ? [traces[i]] : []);
    const n = rows.reduce((a, t) => a + t.length, 0);
    assert.equal(
      run.pathCoverage.byLevel[level].onBasePath,
      rows.reduce((a, t) => a + onPath(t), 0),
    );
    assert.equal(run.pathCoverage.byLevel[level].tokens, n);
  }

  for (const dir of [low, high]) {
    const r = analysis.runs.find((x: { dir: string }) => x.dir === dir);
    for (const [name, phrases] of Object.entries(list)) {
      const expected = outputs(dir).reduce(
        (n, text) => n + phrases.reduce((m, p) => m + plainCount(text, p), 0),
        0,
      );
      assert.equal(r.behaviours.categories[name].total, expected, `${name} in ${dir}`);
    }
  }
  assert.ok(
    analysis.runs.some((r: { behaviours: { categories: { first: { total: number } } } }) =>
      r.behaviours.categories.first.total > 0
    ),
  );
  assert.deepEqual(
    analysis.accuracyVsAlpha.map((p: { alpha: number }) => p.alpha),
    [0.3, 1],
  );

  for (const stem of ["pass_at_k", "accuracy_vs_alpha", "path_coverage_by_level", "top_tokens"]) {
    const png = Deno.readFileSync(join(figures, `${stem}.png`));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(png.length > 5000, `${stem}.png is only ${png.length} bytes`);
    assert.match(Deno.readTextFileSync(join(figures, `${stem}.svg`)), /<svg/);
  }
});

Deno.test("analyze refuses a folder without runs and a bad word list with one line, exit 2", async () => {
  const empty = Deno.makeTempDirSync({ dir: TMP });
  const none = await rast(["analyze", "--res-dir", empty]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /holds no run folder.*pass the folder a `rast run` wrote/);
  assert.equal(none.stderr.trim().split("\n").length, 1);
  const missing = await rast(["analyze"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--res-dir is missing/);
  const bad = join(TMP, "bad-words.json");
  Deno.writeTextFileSync(bad, JSON.stringify({ branching: 3 }));
  const list = await rast(["analyze", "--res-dir", empty, "--behaviours", bad]);
  assert.equal(list.code, 2);
  assert.match(list.stderr, /category "branching" is not a list of non-empty phrases/);
});
