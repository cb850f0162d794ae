/**
 * The miniarith table's arithmetic against hand-computed values (the 95% interval, the recovery
 * ratio, pass@k from the run metrics), path coverage counted on a scripted event stream, and
 * `./rast demo --table --json` end to end on the deterministic fake engine: six runs in the
 * normal layout whose accuracies are what `./rast eval` reports for those folders.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { computeMetrics, type Verdict } from "../datasets/grading/mod.ts";
import { meanAccuracyCi95 } from "../datasets/grading/metrics.ts";
import type { EngineEvent, RastEngine, StepStats } from "../engine/events.ts";
import { countingPathCoverage, emptyCount, pathCoverage } from "../tui/analysis/path_coverage.ts";
import { TABLE_KEYS, tableRuns, trioTable } from "../tui/analysis/trio_table.ts";
import { MINIARITH_MODELS } from "../datasets/miniarith.ts";
import { REPO_ROOT } from "./support/paths.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-table-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

const verdict = (correct: boolean): Verdict => ({
  correct,
  extracted: correct ? "1" : "2",
  gold: "1",
  timeout: false,
});

/** Metrics of four questions, two samples each, with `pattern[q]` correct samples of q. */
function metricsOf(pattern: number[]) {
  const dataset = {
    name: "miniarith",
    rows: pattern.map((_, i) => ({ index: i, question: `q${i}`, gold: "1", fields: {} })),
  };
  const runs = [0, 1].map((s) => pattern.map((c) => verdict(s < c)));
  return computeMetrics(dataset, runs);
}

Deno.test("the 95% interval: mean ± 1.96 s/√Q over per-question accuracies", () => {
  // Per-question accuracies 1, 0.5, 0, 0.5: mean 0.5, s² = (0.25 + 0 + 0.25 + 0) / 3.
  const [lo, hi] = meanAccuracyCi95(metricsOf([2, 1, 0, 1]).perQuestion);
  const half = 1.96 * Math.sqrt(0.5 / 3 / 4);
  assert.ok(Math.abs(lo - (0.5 - half)) < 1e-12 && Math.abs(hi - (0.5 + half)) < 1e-12);
  assert.deepEqual(meanAccuracyCi95(metricsOf([2, 2, 2, 2]).perQuestion), [1, 1]);
});

Deno.test("the table: accuracies, pass@k, RR = (RAST α=1 − base) / (positive − negative)", () => {
  const patterns: Record<string, number[]> = {
    base: [2, 1, 0, 0], // 3/8
    negative: [1, 0, 0, 0], // 1/8
    positive: [2, 1, 0, 0], // 3/8
    "rast/0.5": [2, 1, 1, 0],
    "rast/1.0": [2, 2, 1, 0], // 5/8
    "rast/1.5": [2, 2, 1, 1],
  };
  const runs = Object.fromEntries(
    Object.entries(patterns).map(([key, p]) => [key, { metrics: metricsOf(p), dir: `/r/${key}` }]),
  );
  const table = trioTable(runs, { pathCoverage: 0.9 });
  assert.equal(table.base.accuracy, 3 / 8);
  assert.equal(table.rast["1.0"].accuracy, 5 / 8);
  // pass@2 of [2, 2, 1, 0]: three of four questions have a correct sample.
  assert.equal(table.rast["1.0"].passAtK["2"], 3 / 4);
  assert.ok(Math.abs(table.rr! - (5 / 8 - 3 / 8) / (3 / 8 - 1 / 8)) < 1e-12);
  assert.equal(table.pathCoverage, 0.9);
  assert.deepEqual(Object.keys(table.dirs), TABLE_KEYS);
  const noGain = trioTable({ ...runs, positive: runs.negative }, { pathCoverage: null });
  assert.equal(noGain.rr, null);
  assert.throws(() => trioTable({ base: runs.base }, { pathCoverage: null }), /no "negative" run/);
});

Deno.test("the six runs: three models alone, then the base steered at α 0.5, 1, 1.5", () => {
  const runs = tableRuns({ base: "B", negative: "N", positive: "P" });
  assert.deepEqual(runs.map((r) => [r.key, r.model, r.pairs.map((p) => p.weight)]), [
    ["base", "B", []],
    ["negative", "N", []],
    ["positive", "P", []],
    ["rast/0.5", "B", [0.5]],
    ["rast/1.0", "B", [1]],
    ["rast/1.5", "B", [1.5]],
  ]);
  assert.ok(runs.slice(3).every((r) => r.pairs[0].positive === "P" && r.pairs[0].negative === "N"));
});

/** An engine that streams the given (id, baseArgmax) steps for one sample. */
function scripted(steps: [number, number][]): RastEngine {
  return {
    async *generate() {
      for (const [id, baseArgmax] of steps) {
        const stats = { delta: 0, baseArgmax } as unknown as StepStats;
        yield { kind: "token", request: 0, sample: 0, id, text: "", stats } as EngineEvent;
      }
    },
    decode: () => "",
    encode: () => [],
    close: () => {},
  };
}

Deno.test("path coverage: the share of steps whose token is the base's argmax", async () => {
  const count = emptyCount();
  const engine = countingPathCoverage(scripted([[5, 5], [6, 2], [7, 7], [8, 8]]), count);
  const seen: number[] = [];
  for await (const e of engine.generate([], { maxTokens: 1 } as never)) {
    if (e.kind === "token") seen.push(e.id);
  }
  assert.deepEqual(seen, [5, 6, 7, 8], "events pass through unchanged");
  assert.deepEqual(count, { steps: 4, baseArgmax: 3 });
  assert.equal(pathCoverage(count), 3 / 4);
  assert.equal(pathCoverage(emptyCount()), null, "no step, no number");
});

async function rast(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", join(REPO_ROOT, "main.ts"), ...args],
    env: {
      RAST_ENGINE_MODULE: join(REPO_ROOT, "test", "support", "fake_run_engine.ts"),
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test({
  name: "demo --table --json: six runs in the normal layout, accuracies as ./rast eval reports",
  ignore: !existsSync(join(MINIARITH_MODELS.base, "config.json")),
  async fn() {
    const out = join(TMP, "table");
    const args = ["demo", "--table", "--json", "--num-runs", "2", "--output-dir", out];
    const first = await rast(args);
    assert.equal(first.code, 0, first.stderr);
    const table = JSON.parse(first.stdout);
    assert.equal(table.dataset, "miniarith");
    assert.deepEqual(Object.keys(table.rast), ["0.5", "1.0", "1.5"]);
    // The fake's every step reports baseArgmax 0, and its tokens are UTF-8 bytes (never 0).
    assert.equal(table.pathCoverage, 0);
    for (const key of TABLE_KEYS) {
      const dir = table.dirs[key];
      assert.ok(dir.startsWith(join(out, "miniarith")), `${key} in the normal layout`);
      for (
        const file of ["run.json", "journal.jsonl", "prediction-0.jsonl", "prediction-1.jsonl"]
      ) {
        assert.ok(existsSync(join(dir, file)), `${key}: ${file}`);
      }
      const evaluated = await rast(["eval", "--dataset", "miniarith", "--res-dir", dir, "--json"]);
      assert.equal(evaluated.code, 0, evaluated.stderr);
      const row = key.startsWith("rast/") ? table.rast[key.slice(5)] : table[key];
      assert.equal(row.accuracy, JSON.parse(evaluated.stdout).meanAccuracy, key);
    }
    const again = await rast(args);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), table, "a rerun re-reports the same table");
  },
});

Deno.test("demo rejects --json without --table with one line and exit 2", async () => {
  const result = await rast(["demo", "--json"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--json needs --table/);
});
