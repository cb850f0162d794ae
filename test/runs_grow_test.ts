/**
 * Runs that grow and runs in the authors' layout, driven by the deterministic fake engine:
 * 8 → 32 → 16 samples on one folder adds samples without touching those done and re-reports on
 * the first 16; --layout authors writes their folder names (baseline/ for base-only runs) and
 * reads them back (resume and eval), with their dataset names.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Grader } from "../datasets/grading/grader.ts";
import { evaluateResultsDir } from "../tui/runs/evaluate.ts";
import { planRun, type RunConfig } from "../tui/runs/plan.ts";
import { type RunSession } from "../tui/runs/session.ts";
import { startRun } from "../tui/runs/start.ts";
import { readRunRecord } from "../tui/runs/run_json.ts";
import { runDir } from "../tui/runs/layout.ts";
import { datasetFromAuthorsFolder } from "../tui/cli/eval_action.ts";
import { FakeRunEngine } from "./support/fake_run_engine.ts";
import { LOCK_FILE } from "../tui/runs/lock.ts";
import { fixtureRunConfig, gsm8kDataDir } from "./support/run_config.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

function makeDataDir(): string {
  const rows = [0, 1, 2].map((gold, i) => ({ question: `Q${i}?`, answer: `So.\n#### ${gold}` }));
  return gsm8kDataDir(TMP, rows);
}

function config(dataDir: string, outputDir: string, over: Partial<RunConfig> = {}): RunConfig {
  return fixtureRunConfig(dataDir, outputDir, { numRuns: 8, seed: 3, ...over });
}

async function drive(session: RunSession, engine = new FakeRunEngine()) {
  for await (const _ of session.events(engine)) { /* the session journals as it goes */ }
  return await session.finish();
}

/** Every file of a folder with its bytes and modification time. */
function snapshot(dir: string): Map<string, { text: string; mtime: number }> {
  const out = new Map<string, { text: string; mtime: number }>();
  for (const e of Deno.readDirSync(dir)) {
    if (e.name === LOCK_FILE) continue; // the holder note changes with every process
    const path = join(dir, e.name);
    out.set(e.name, {
      text: Deno.readTextFileSync(path),
      mtime: Deno.statSync(path).mtime!.getTime(),
    });
  }
  return out;
}

Deno.test("8 → 32 → 16 samples: the run grows, keeps what was done, then reports on the first 16", async () => {
  const dataDir = makeDataDir();
  const out = Deno.makeTempDirSync({ dir: TMP });
  const grader = new Grader({ workers: 1 });
  try {
    const first = await drive(await startRun(await planRun(config(dataDir, out)), grader));
    assert.equal(first.complete, true);
    const dir = first.dir;
    const eight = snapshot(dir);
    const journalEight = eight.get("journal.jsonl")!.text;

    const engine = new FakeRunEngine();
    const grown = await planRun(config(dataDir, out, { numRuns: 32 }));
    assert.equal(grown.growing, true);
    assert.equal(grown.done.size, 3 * 8);
    const big = await drive(await startRun(grown, grader), engine);
    assert.equal(big.complete, true);
    assert.equal(big.doneBefore, 24);
    assert.equal(big.metrics!.samples, 32);
    // only the 24 new samples of each row were asked for
    const asked = engine.requestsSeen.flat().map((r) => r.sampleIndices);
    assert.deepEqual(asked, [0, 1, 2].map(() => Array.from({ length: 24 }, (_, i) => i + 8)));
    const after = snapshot(dir);
    for (let i = 0; i < 8; i++) {
      assert.deepEqual(after.get(`prediction-${i}.jsonl`), eight.get(`prediction-${i}.jsonl`));
    }
    for (let i = 8; i < 32; i++) assert.ok(after.has(`prediction-${i}.jsonl`));
    assert.ok(after.get("journal.jsonl")!.text.startsWith(journalEight));
    assert.equal(readRunRecord(join(dir, "run.json")).settings.numRuns, 32);

    // a fresh 32-sample run gives the same files: growing is the same as asking for 32 at once
    const fresh = Deno.makeTempDirSync({ dir: TMP });
    const direct = await drive(
      await startRun(await planRun(config(dataDir, fresh, { numRuns: 32 })), grader),
    );
    for (let i = 0; i < 32; i++) {
      assert.equal(
        Deno.readTextFileSync(join(direct.dir, `prediction-${i}.jsonl`)),
        after.get(`prediction-${i}.jsonl`)!.text,
      );
    }

    const smallPlan = await planRun(config(dataDir, out, { numRuns: 16 }));
    assert.equal(smallPlan.reportOnly, true);
    assert.equal(smallPlan.total - smallPlan.done.size, 0);
    const small = await (await startRun(smallPlan, grader)).finish();
    assert.equal(small.total, 48);
    assert.equal(small.done, 48);
    assert.equal(small.metrics!.samples, 16);
    assert.deepEqual(snapshot(dir), after); // nothing on disk changed, metrics.json included

    await assert.rejects(
      () => planRun(config(dataDir, out, { numRuns: 16, seed: 4 })),
      /other settings \(seed: 3 there, 4 here\)/,
    );
  } finally {
    grader.close();
  }
});

Deno.test("--layout authors: their folder and dataset names, written and read back", async () => {
  const dataDir = makeDataDir();
  const out = Deno.makeTempDirSync({ dir: TMP });
  const grader = new Grader({ workers: 1 });
  try {
    const steered = config(dataDir, out, { layout: "authors", numRuns: 2, dataset: "GSM8K" });
    const run = await drive(await startRun(await planRun(steered), grader));
    // the fixtures are folders "base" and "neg": a name without "-" is its own suffix
    assert.equal(run.dir, join(out, "GSM8K", "base_neg_alpha_1.0_temp_1.0"));
    const line = JSON.parse(
      Deno.readTextFileSync(join(run.dir, "prediction-0.jsonl")).split("\n")[0],
    );
    assert.equal(line.question, "Question:\nQ0?\nAnswer:\nLet's think step by step.\n");
    assert.equal(line.answer, "So.\n#### 0");
    // read back: the same command finds the folder and re-reports; eval finds the dataset by it
    const again = await planRun(steered);
    assert.equal(again.paths.dir, run.dir);
    assert.equal(again.total - again.done.size, 0);
    assert.equal(datasetFromAuthorsFolder(run.dir), "GSM8K");
    const metrics = await evaluateResultsDir("GSM8K", run.dir, { dataDir, grader });
    assert.deepEqual(metrics.passAtK, run.metrics!.passAtK);

    const baseline = await planRun({ ...steered, pairs: [], temperature: 0.6 });
    assert.equal(baseline.paths.dir, join(out, "baseline", "GSM8K", "base_temp_0.6"));
    assert.equal(existsSync(baseline.paths.dir), false);
  } finally {
    grader.close();
  }
});

Deno.test("authors' folder names of hub models, as their run.py and run_vllm.py build them", () => {
  // base_scale = base_model.split("-")[-1]; baseline: base_model.replace("/", "-")
  const parts = {
    layout: "authors" as const,
    dataset: "math500",
    base: { label: "Qwen2.5-14B", hubId: "Qwen/Qwen2.5-14B" },
    temperature: 1,
  };
  assert.equal(
    runDir("results", { ...parts, pairs: [{ negative: "Qwen2.5-1.5B", weight: 1 }] }),
    join("results", "MATH", "14B_1.5B_alpha_1.0_temp_1.0"),
  );
  assert.equal(
    runDir("results", { ...parts, dataset: "olympiadbench", pairs: [] }),
    join("results", "baseline", "Olympiad", "Qwen-Qwen2.5-14B_temp_1.0"),
  );
  assert.equal(
    runDir("results", {
      ...parts,
      layout: "rast",
      pairs: [{ negative: "Qwen2.5-1.5B", weight: 0.5 }],
    }),
    join("results", "math500", "Qwen2.5-14B_Qwen2.5-1.5B_alpha_0.5_temp_1.0"),
  );
});
