/**
 * The run loop on a deterministic fake engine: journal + resume after a crash, prediction files
 * in the authors' format, refusal of a folder made with other settings, re-reporting a finished
 * run without an engine. Reference: an uninterrupted run of the same settings.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "../engine/errors.ts";
import { evaluateResultsDir } from "../tui/runs/evaluate.ts";
import { Grader } from "../datasets/grading/mod.ts";
import { planRun, type RunConfig } from "../tui/runs/plan.ts";
import { type RunSession } from "../tui/runs/session.ts";
import { startRun } from "../tui/runs/start.ts";
import { fakeAnswerText, FakeRunEngine } from "./support/fake_run_engine.ts";
import { DATASETS_DIR, FIXTURES_DIR } from "./support/paths.ts";
import { LOCK_FILE } from "../tui/runs/lock.ts";
import { fixtureRunConfig, gsm8kDataDir } from "./support/run_config.ts";

/** Every temporary folder of this file lives here and goes when the tests end. */
const TMP = Deno.makeTempDirSync({ prefix: "rast-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

/** Six gsm8k-style rows whose gold answers are 0..3, the range the fake's boxed answers take. */
const ROWS = [0, 1, 2, 3, 1, 2].map((gold, i) => ({
  question: `Question ${i}: how many apples (${"🍎".repeat(i)})?`,
  answer: `Work it out.\n#### ${gold}`,
}));

function makeDataDir(): string {
  return gsm8kDataDir(TMP, ROWS, "rast-data-");
}

function config(dataDir: string, outputDir: string, over: Partial<RunConfig> = {}): RunConfig {
  return fixtureRunConfig(dataDir, outputDir, { numRuns: 3, seed: 7, ...over });
}

/** Drives a session; stops (like a crash) after `crashAfter` finished samples when given. */
async function drive(session: RunSession, engine: FakeRunEngine, crashAfter?: number) {
  let finished = 0;
  for await (const event of session.events(engine)) {
    if (event.kind === "finished") finished++;
    if (crashAfter !== undefined && finished >= crashAfter) {
      session.close();
      return undefined;
    }
  }
  return await session.finish();
}

function readLines(path: string): Record<string, unknown>[] {
  const text = Deno.readTextFileSync(path);
  assert.ok(text.endsWith("\n"));
  return text.slice(0, -1).split("\n").map((line) => JSON.parse(line));
}

function runDir(outputDir: string): string {
  return join(outputDir, "gsm8k", "base_neg_alpha_1.0_temp_1.0");
}

Deno.test("a crashed run resumes to exactly the files of an uninterrupted one", async () => {
  const dataDir = makeDataDir();
  const grader = new Grader();
  try {
    const reference = Deno.makeTempDirSync({ dir: TMP, prefix: "rast-ref-" });
    const whole = await drive(
      await startRun(await planRun(config(dataDir, reference)), grader),
      new FakeRunEngine(),
    );
    assert.equal(whole?.complete, true);

    const out = Deno.makeTempDirSync({ dir: TMP, prefix: "rast-crash-" });
    const first = new FakeRunEngine({ maxConcurrent: 5 });
    assert.equal(
      await drive(await startRun(await planRun(config(dataDir, out)), grader), first, 8),
      undefined,
    );
    const dir = runDir(out);
    // A crash mid-append leaves a torn last line.
    Deno.writeTextFileSync(join(dir, "journal.jsonl"), '{"row":5,"sample":2,"outp', {
      append: true,
    });

    const plan = await planRun(config(dataDir, out));
    const doneAtCrash = plan.done.size;
    assert.ok(
      doneAtCrash > 0 && doneAtCrash < 18,
      `${doneAtCrash} samples journalled before the crash`,
    );
    const second = new FakeRunEngine({ maxConcurrent: 2 });
    const summary = await drive(await startRun(plan, grader), second);
    assert.equal(summary?.complete, true);
    assert.equal(summary?.doneBefore, doneAtCrash);

    const asked = second.requestsSeen.flat().reduce(
      (n, r) => n + (r.sampleIndices?.length ?? r.samples),
      0,
    );
    assert.equal(asked, 18 - doneAtCrash, "only unfinished samples are generated again");
    assert.equal(Deno.readTextFileSync(join(dir, "journal.jsonl")).trim().split("\n").length, 18);

    for (let s = 0; s < 3; s++) {
      const name = `prediction-${s}.jsonl`;
      const lines = readLines(join(dir, name));
      assert.deepEqual(
        lines.map((l) => l.question),
        ROWS.map((r) => r.question),
        `${name}: rows in order`,
      );
      assert.deepEqual(lines.map((l) => String(l.answer).trim()), ["0", "1", "2", "3", "1", "2"]);
      assert.equal(
        Deno.readTextFileSync(join(dir, name)),
        Deno.readTextFileSync(join(runDir(reference), name)),
        `${name} equals the uninterrupted run's`,
      );
    }
    const metrics = JSON.parse(Deno.readTextFileSync(join(dir, "metrics.json")));
    assert.deepEqual(
      metrics,
      JSON.parse(Deno.readTextFileSync(join(runDir(reference), "metrics.json"))),
    );
  } finally {
    grader.close();
  }
});

Deno.test("each sample's text comes from its own (row seed, sample) and the prompt", async () => {
  const dataDir = makeDataDir();
  const grader = new Grader();
  try {
    const out = Deno.makeTempDirSync({ dir: TMP });
    const engine = new FakeRunEngine();
    const plan = await planRun(config(dataDir, out, { numRuns: 2 }));
    await drive(await startRun(plan, grader), engine);
    const requests = engine.requestsSeen[0];
    assert.deepEqual(requests.map((r) => r.request), [0, 1, 2, 3, 4, 5]);
    assert.equal(new Set(requests.map((r) => r.seed)).size, 6, "every row has its own seed");
    const lines = readLines(join(runDir(out), "prediction-1.jsonl"));
    requests.forEach((r, row) => {
      assert.equal(lines[row].model_output, fakeAnswerText(r.seed, 1, r.promptIds));
      assert.match(
        new TextDecoder().decode(new Uint8Array(r.promptIds)),
        /^Question:\nQuestion \d/,
      );
    });
    const runJson = JSON.parse(Deno.readTextFileSync(join(runDir(out), "run.json")));
    assert.equal(runJson.seeds.rows["3"], requests[3].seed);
  } finally {
    grader.close();
  }
});

Deno.test("accuracy in metrics.json matches the boxed answers against the golds", async () => {
  const dataDir = makeDataDir();
  const grader = new Grader();
  try {
    const out = Deno.makeTempDirSync({ dir: TMP });
    const engine = new FakeRunEngine();
    const summary = await drive(
      await startRun(await planRun(config(dataDir, out)), grader),
      engine,
    );
    // Count by hand: the fake's answer is the digit in \boxed{}, the gold the text after ####.
    let correct = 0;
    for (const r of engine.requestsSeen[0]) {
      for (let s = 0; s < 3; s++) {
        const boxed = /\\boxed\{(\d)\}/.exec(fakeAnswerText(r.seed, s, r.promptIds))![1];
        if (boxed === ROWS[r.request].answer.split("#### ")[1]) correct++;
      }
    }
    assert.equal(summary?.correct, correct);
    const metrics = JSON.parse(Deno.readTextFileSync(join(runDir(out), "metrics.json")));
    assert.ok(Math.abs(metrics.meanAccuracy - correct / 18) < 1e-12, JSON.stringify(metrics));
  } finally {
    grader.close();
  }
});

Deno.test("a finished run is re-reported without an engine and without rewriting files", async () => {
  const dataDir = makeDataDir();
  const grader = new Grader();
  try {
    const out = Deno.makeTempDirSync({ dir: TMP });
    await drive(await startRun(await planRun(config(dataDir, out)), grader), new FakeRunEngine());
    const dir = runDir(out);
    const before = new Map(
      [...Deno.readDirSync(dir)].filter((e) => e.name !== LOCK_FILE).map((
        e,
      ) => [e.name, Deno.statSync(join(dir, e.name)).mtime?.getTime()]),
    );
    const plan = await planRun(config(dataDir, out));
    assert.equal(plan.done.size, plan.total);
    const session = await startRun(plan, grader);
    assert.deepEqual(session.pendingRequests(() => []), []);
    const summary = await session.finish();
    assert.equal(summary.complete, true);
    assert.equal(summary.doneBefore, 18);
    const after = new Map(
      [...Deno.readDirSync(dir)].filter((e) => e.name !== LOCK_FILE).map((
        e,
      ) => [e.name, Deno.statSync(join(dir, e.name)).mtime?.getTime()]),
    );
    assert.deepEqual(after, before);
  } finally {
    grader.close();
  }
});

Deno.test("a lost prediction file is rewritten from the journal on resume", async () => {
  const dataDir = makeDataDir();
  const grader = new Grader();
  try {
    const out = Deno.makeTempDirSync({ dir: TMP });
    await drive(await startRun(await planRun(config(dataDir, out)), grader), new FakeRunEngine());
    const path = join(runDir(out), "prediction-2.jsonl");
    const text = Deno.readTextFileSync(path);
    Deno.removeSync(path);
    await (await startRun(await planRun(config(dataDir, out)), grader)).finish();
    assert.equal(Deno.readTextFileSync(path), text);
  } finally {
    grader.close();
  }
});

Deno.test("a run folder made with other settings is refused and left untouched", async () => {
  const dataDir = makeDataDir();
  const grader = new Grader();
  try {
    const out = Deno.makeTempDirSync({ dir: TMP });
    await drive(
      await startRun(await planRun(config(dataDir, out, { numRuns: 1 })), grader),
      new FakeRunEngine(),
    );
    const dir = runDir(out);
    const snapshot = () =>
      [...Deno.readDirSync(dir)].filter((e) => e.name !== LOCK_FILE).map((e) =>
        `${e.name}:${Deno.readTextFileSync(join(dir, e.name))}`
      )
        .sort();
    const before = snapshot();
    const refused = async (over: Partial<RunConfig>, pattern: RegExp) =>
      await assert.rejects(
        () => planRun(config(dataDir, out, { numRuns: 1, ...over })),
        (err) =>
          err instanceof UserError && pattern.test(err.message) && !err.message.includes("\n"),
      );
    await refused(
      { seed: 8 },
      /was made with other settings \(seed: 7 there, 8 here\); pass another --output-dir/,
    );
    await refused({ topP: 1 }, /topP: 0\.95 there, 1 here/);
    // another --num-runs is not refused: the run grows or reports on fewer (runs_grow_test.ts)
    await refused({ limit: 2 }, /dataset\.\w+: .* there, .* here/);
    assert.deepEqual(snapshot(), before);
  } finally {
    grader.close();
  }
});

Deno.test("a --start/--end window writes only its rows, in order, and records the window", async () => {
  const dataDir = makeDataDir();
  const grader = new Grader();
  try {
    const out = Deno.makeTempDirSync({ dir: TMP });
    await drive(
      await startRun(await planRun(config(dataDir, out, { start: 2, end: 5, numRuns: 1 })), grader),
      new FakeRunEngine(),
    );
    const lines = readLines(join(runDir(out), "prediction-0.jsonl"));
    assert.deepEqual(lines.map((l) => l.question), ROWS.slice(2, 5).map((r) => r.question));
    const runJson = JSON.parse(Deno.readTextFileSync(join(runDir(out), "run.json")));
    assert.deepEqual([runJson.settings.dataset.start, runJson.settings.dataset.end], [2, 5]);
    // The evaluator pairs line i with window row i (from run.json) and agrees with the run.
    const written = JSON.parse(Deno.readTextFileSync(join(runDir(out), "metrics.json")));
    assert.equal(written.questions, 3);
    const evaluated = await evaluateResultsDir("gsm8k", runDir(out), { dataDir, grader });
    assert.deepEqual(JSON.parse(JSON.stringify(evaluated)), written);
  } finally {
    grader.close();
  }
});

Deno.test("math500 prediction lines carry the row's level as difficulty", async () => {
  const grader = new Grader();
  try {
    const out = Deno.makeTempDirSync({ dir: TMP });
    const plan = await planRun(
      config(DATASETS_DIR, out, { dataset: "math500", limit: 3, numRuns: 1 }),
    );
    await drive(await startRun(plan, grader), new FakeRunEngine());
    const source = Deno.readTextFileSync(join(DATASETS_DIR, "math500", "test.jsonl")).split("\n")
      .slice(0, 3)
      .map((l) => JSON.parse(l));
    const lines = readLines(
      join(out, "math500", "base_neg_alpha_1.0_temp_1.0", "prediction-0.jsonl"),
    );
    assert.deepEqual(lines.map((l) => l.difficulty), source.map((r) => r.level));
    assert.deepEqual(lines.map((l) => l.question), source.map((r) => r.problem));
    assert.deepEqual(lines.map((l) => l.answer), source.map((r) => r.answer));
  } finally {
    grader.close();
  }
});

/** A folder named `name` under a fresh parent holding copies (or links) of a fixture model. */
function modelCopy(fixture: string, name: string, edit?: (weights: Uint8Array) => void): string {
  const dir = join(Deno.makeTempDirSync({ dir: TMP }), name);
  Deno.mkdirSync(dir);
  for (const e of Deno.readDirSync(join(FIXTURES_DIR, fixture))) {
    const from = join(FIXTURES_DIR, fixture, e.name);
    if (edit && e.name.endsWith(".safetensors")) {
      const bytes = Deno.readFileSync(from);
      edit(bytes);
      Deno.writeFileSync(join(dir, e.name), bytes);
    } else Deno.copyFileSync(from, join(dir, e.name));
  }
  return dir;
}

Deno.test("a model reached by another path resumes; other weights behind the same config are refused", async () => {
  const dataDir = makeDataDir();
  const grader = new Grader();
  try {
    const out = Deno.makeTempDirSync({ dir: TMP });
    const first = await planRun(config(dataDir, out, { numRuns: 1 }));
    await drive(await startRun(first, grader), new FakeRunEngine());
    // the same bytes in another folder (another mount, a symlinked cache): the same run
    const moved = modelCopy("base", "base");
    const linked = join(Deno.makeTempDirSync({ dir: TMP }), "neg");
    Deno.symlinkSync(join(FIXTURES_DIR, "neg"), linked);
    const again = await planRun(
      config(dataDir, out, {
        numRuns: 1,
        baseModel: moved,
        pairs: [{ positive: join(FIXTURES_DIR, "pos"), negative: linked, weight: 1 }],
      }),
    );
    assert.equal(again.resuming, true);
    assert.equal(again.done.size, ROWS.length, "every finished sample is kept");
    // a fine-tune keeps config.json and every safetensors header; only its numbers differ
    const tuned = modelCopy("base", "base", (bytes) => {
      const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
      bytes[headerEnd + 1] ^= 0x40;
    });
    await assert.rejects(
      () => planRun(config(dataDir, out, { numRuns: 1, baseModel: tuned })),
      (err) =>
        err instanceof UserError &&
        /other settings \(baseModel\.weightsSha256: "[0-9a-f]+" there, "[0-9a-f]+" here\)/.test(
          err.message,
        ),
    );
  } finally {
    grader.close();
  }
});
