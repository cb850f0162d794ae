/**
 * Mid-sample resume on the deterministic fake engine: the tokens of samples in flight are
 * checkpointed to inflight.jsonl, a resumed run hands them back to the engine, and the files
 * end up as an uninterrupted run's. The fake keeps a resumed sample's given tokens as they are,
 * so a checkpoint that was wrong or ignored would show in the output.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Grader } from "../datasets/grading/mod.ts";
import { planRun, type RunConfig } from "../tui/runs/plan.ts";
import { startRun } from "../tui/runs/start.ts";
import { CHECKPOINT_INTERVAL_MS, readInflight } from "../tui/runs/inflight.ts";
import { fakeAnswerText, FakeRunEngine } from "./support/fake_run_engine.ts";
import { rowSeed } from "../tui/runs/seeds.ts";
import { fixtureRunConfig, gsm8kDataDir } from "./support/run_config.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-inflight-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

function config(outputDir: string): RunConfig {
  const rows = [0, 1, 2, 3].map((g, i) => ({ question: `Q${i}?`, answer: `#### ${g}` }));
  return fixtureRunConfig(gsm8kDataDir(TMP, rows, "data-"), outputDir, { numRuns: 2, seed: 7 });
}

/** Runs to the end (or until `stopAfterMs`, like a kill: the session is dropped). */
async function drive(outputDir: string, engine: FakeRunEngine, stopAfterMs?: number) {
  const plan = await planRun(config(outputDir));
  const grader = new Grader();
  try {
    const session = await startRun(plan, grader);
    const started = performance.now();
    for await (const _ of session.events(engine)) {
      if (stopAfterMs !== undefined && performance.now() - started > stopAfterMs) {
        session.close();
        return plan.paths;
      }
    }
    await session.finish();
    return plan.paths;
  } finally {
    grader.close();
  }
}

const encode = (text: string) => [...new TextEncoder().encode(text)];

Deno.test("a checkpointed sample is handed back to the engine and continues from its tokens", async () => {
  const out = join(TMP, "handed-back");
  // A run that stopped at its first event, before any sample finished.
  const plan = { paths: await drive(out, new FakeRunEngine(), 0) };
  assert.equal(Deno.readTextFileSync(plan.paths.journal), "");
  // Row 2 sample 1 was 5 tokens in when the last process died; the last line is torn.
  const lines = [
    { row: 2, sample: 1, from: 0, tokens: encode("Ab") },
    { row: 2, sample: 1, from: 2, tokens: encode("cde") },
  ].map((l) => JSON.stringify(l) + "\n").join("");
  Deno.writeTextFileSync(plan.paths.inflight, lines + '{"row":0,"sam');
  const engine = new FakeRunEngine();
  const paths = await drive(out, engine);
  assert.equal(engine.requestsSeen.length, 1);
  const request = engine.requestsSeen[0].find((r) => r.request === 2)!;
  assert.deepEqual([...request.resume!], [[1, encode("Abcde")]]);
  const journal = Deno.readTextFileSync(paths.journal).trimEnd().split("\n").map((l) =>
    JSON.parse(l)
  );
  const record = journal.find((r) => r.row === 2 && r.sample === 1);
  const own = fakeAnswerText(rowSeed(7, 2), 1, request.promptIds);
  assert.equal(record.output, "Abcde" + own.slice(5));
  // Opened again, the finished sample's checkpoint is dropped.
  await drive(out, new FakeRunEngine());
  assert.equal(Deno.readTextFileSync(paths.inflight), "");
});

Deno.test("a run stopped mid-sample checkpoints its tokens and resumes to the uninterrupted files", async () => {
  const reference = await drive(join(TMP, "whole"), new FakeRunEngine());
  const out = join(TMP, "stopped");
  // 8 samples of ~45 tokens, 4 at a time, 8 ms a token: about 3 s in all.
  const paths = await drive(
    out,
    new FakeRunEngine({ tokenDelayMs: 8 }),
    CHECKPOINT_INTERVAL_MS + 300,
  );
  const checkpoints = readInflight(paths.inflight);
  const journalled = new Set(
    Deno.readTextFileSync(paths.journal).trimEnd().split("\n").filter((l) => l).map((l) => {
      const r = JSON.parse(l);
      return `${r.row}:${r.sample}`;
    }),
  );
  const partial = [...checkpoints].filter(([key]) => !journalled.has(key));
  assert.ok(partial.length > 0, "samples in flight were checkpointed");
  const engine = new FakeRunEngine();
  await drive(out, engine);
  const resumed = engine.requestsSeen[0].flatMap((r) => [...(r.resume ?? new Map()).keys()]);
  assert.equal(resumed.length, partial.length, "each checkpointed sample resumed mid-way");
  for (const name of ["prediction-0.jsonl", "prediction-1.jsonl", "metrics.json"]) {
    assert.equal(
      Deno.readTextFileSync(join(paths.dir, name)),
      Deno.readTextFileSync(join(reference.dir, name)),
      name,
    );
  }
});
