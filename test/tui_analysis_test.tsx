/**
 * The TUI's live analysis line against `rast analyze` on the same finished run: the tiny trio
 * (real engine) runs a session whose events feed both the token-stats recorder and the TUI's
 * reducer; the line then shows analyze's path coverage and behaviour totals.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { render } from "ink-testing-library";
import type { EngineEvent } from "../engine/events.ts";
import { analyze } from "../tui/analysis/mod.ts";
import { recordTokenStats, TokenStatsRecorder } from "../tui/analysis/token_stats.ts";
import { Grader } from "../datasets/grading/mod.ts";
import { openEngine } from "../engine/mod.ts";
import { planRun } from "../tui/runs/plan.ts";
import { startRun } from "../tui/runs/start.ts";
import { AnalysisLine } from "../tui/app/components/analysis_line.tsx";
import { RastView } from "../tui/app/components/rast_view.tsx";
import { percent } from "../tui/app/format.ts";
import { initialState, reduce, type TuiState } from "../tui/app/state.ts";
import { FIXTURES_DIR } from "./support/paths.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-tui-analysis-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

function dataDir(): string {
  const dir = join(TMP, "data");
  Deno.mkdirSync(join(dir, "gsm8k"), { recursive: true });
  const lines = [0, 1, 2].map((i) =>
    JSON.stringify({ question: `What is ${i} + 2?`, answer: `#### ${i + 2}` })
  );
  Deno.writeTextFileSync(join(dir, "gsm8k", "test.jsonl"), lines.join("\n") + "\n");
  return dir;
}

/** The events of a whole tiny-trio run, recorded with --save-stats; returns them and the folder. */
async function finishedRun(): Promise<{ events: EngineEvent[]; dir: string }> {
  const plan = await planRun({
    dataset: "gsm8k",
    dataDir: dataDir(),
    baseModel: join(FIXTURES_DIR, "base"),
    pairs: [{
      positive: join(FIXTURES_DIR, "pos"),
      negative: join(FIXTURES_DIR, "neg"),
      weight: 0.5,
    }],
    temperature: 0.3,
    topP: 0.95,
    maxTokens: 16,
    numRuns: 2,
    seed: 3,
    promptTemplate: "{input}",
    tensorParallelSize: 1,
    outputDir: join(TMP, "results"),
  });
  const grader = new Grader({ stopStrings: plan.record.settings.stopStrings });
  const engine = await openEngine({
    baseModel: plan.baseModel.path,
    pairs: plan.pairs.map((p) => ({
      positive: p.positive.path,
      negative: p.negative.path,
      weight: p.weight,
    })),
    dtype: "float32",
  });
  const events: EngineEvent[] = [];
  try {
    const session = await startRun(plan, grader);
    const recorder = new TokenStatsRecorder(plan.paths.dir);
    const encode = (text: string) => [...new TextEncoder().encode(text)];
    for await (const event of recordTokenStats(session.events(engine, { encode }), recorder)) {
      events.push(event);
    }
    const summary = await session.finish();
    assert.ok(summary.complete, summary.errors.join("; "));
  } finally {
    engine.close();
    grader.close();
  }
  return { events, dir: plan.paths.dir };
}

function frame(node: React.ReactElement): string {
  const r = render(node);
  const out = r.lastFrame() ?? "";
  r.unmount();
  return out;
}

Deno.test("the live analysis line and analyze agree on a finished tiny-trio run", async () => {
  const { events, dir } = await finishedRun();
  const answers = events.flatMap((e) => e.kind === "finished" ? [e.text] : []);
  const words = answers.join(" ").split(/\s+/).filter((w) => w !== "");
  const behaviours = { often: [words[0], words[3]], pair: [`${words[1]} ${words[2]}`] };

  let state: TuiState = initialState({ now: 0, totalSamples: 6, behaviours });
  for (const event of events) state = reduce(state, { type: "engine", event });
  const analysis = analyze([dir], { behaviours });
  const [run] = analysis.runs;
  assert.equal(run.samples, 6);
  assert.equal(run.samplesWithStats, 6);

  const coverage = run.pathCoverage.all;
  assert.equal(state.analysis.tokens, coverage.tokens);
  assert.equal(state.analysis.onBasePath, coverage.onBasePath);
  for (const name of Object.keys(behaviours)) {
    assert.equal(state.analysis.behaviours[name], run.behaviours.categories[name].total, name);
  }
  assert.ok(run.behaviours.categories.often.total > 0);

  const line = frame(<AnalysisLine state={state} width={100} />);
  assert.match(
    line,
    new RegExp(`path ${percent(coverage.share!).replace(".", "\\.")} of ${coverage.tokens} tok`),
  );
  const { often, pair } = run.behaviours.categories;
  assert.match(line, new RegExp(`often ${often.total} · pair ${pair.total} \\(6 done\\)`));
  // And it is on the live screen, under the accuracy panel.
  const screen = frame(<RastView state={state} columns={140} rows={40} />);
  assert.ok(screen.includes(`of ${coverage.tokens} tok`), screen);
});
