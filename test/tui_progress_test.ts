/** The headless reporter: progress lines, JSONL, and the metrics table, on a scripted clock. */
import assert from "node:assert/strict";
import type { EngineEvent } from "../engine/events.ts";
import { BatchReporter, formatMetricsTable, reportBatch } from "../tui/cli/progress.ts";
import { FakeEngine, interleave, scriptSample } from "./support/fake_engine.ts";

function sink() {
  const out = { text: "", write: (t: string) => void (out.text += t) };
  return out;
}

Deno.test("plain mode: a line when the interval has passed, and a final one", () => {
  let now = 0;
  const stderr = sink();
  const stdout = sink();
  const reporter = new BatchReporter({
    totalSamples: 4,
    stderr,
    stdout,
    tty: false,
    intervalMs: 1000,
    now: () => now,
  });
  const [started, a, b, c, d, finished] = scriptSample({
    request: 0,
    sample: 0,
    tokens: ["a", "b", "c", "d"],
  });
  reporter.event(started); // first event: a line at once
  for (const [t, e] of [[100, a], [200, b], [300, c], [400, d]] as const) {
    now = t;
    reporter.event(e);
  }
  now = 2000;
  reporter.event(finished); // 2 s since the last line
  reporter.verdict({ request: 0, sample: 0, correct: true, extracted: "4" });
  now = 3000;
  reporter.finish();
  assert.equal(
    stderr.text,
    "rast: 0/4 samples (0.0%) · 0.0 tok/s · ETA –\n" +
      // 4 tokens in 2 s; 3 samples left at 2 s each.
      "rast: 1/4 samples (25.0%) · 2.0 tok/s · ETA 6s\n" +
      "rast: 1/4 samples (25.0%) · 1.3 tok/s · took 3s · acc 100.0% (1/1)\n",
  );
  assert.equal(stdout.text, "", "no JSON unless asked");
});

Deno.test("terminal mode rewrites one line in place; errors get their own line", () => {
  let now = 0;
  const stderr = sink();
  const reporter = new BatchReporter({
    totalSamples: 2,
    stderr,
    stdout: sink(),
    tty: true,
    columns: 200,
    intervalMs: 100,
    now: () => now,
  });
  reporter.event({ kind: "started", request: 0, sample: 0, promptTokens: 3 });
  now = 50;
  reporter.event({ kind: "error", request: 0, message: "Out of KV cache; lower --max-tokens" });
  now = 1000;
  reporter.finish();
  assert.equal(
    stderr.text,
    "\r\x1b[Krast: 0/2 samples (0.0%) · 0.0 tok/s · ETA –" +
      "\r\x1b[Krast: engine error (request 0): Out of KV cache; lower --max-tokens\n" +
      "\r\x1b[Krast: 0/2 samples (0.0%) · 0.0 tok/s · took 1s\n",
  );
});

Deno.test("--json: every event and verdict is one JSON line on stdout", () => {
  const stdout = sink();
  const reporter = new BatchReporter({
    totalSamples: 1,
    stderr: sink(),
    stdout,
    tty: false,
    json: true,
    now: () => 0,
  });
  const events = scriptSample({ request: 2, sample: 1, tokens: ["x"] });
  for (const e of events) reporter.event(e);
  reporter.verdict({ request: 2, sample: 1, correct: false, extracted: null });
  const lines = stdout.text.trimEnd().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(lines, [...events, {
    kind: "verdict",
    request: 2,
    sample: 1,
    correct: false,
    extracted: null,
  }]);
});

Deno.test("reportBatch drains the stream, grades finished samples and skips cancelled ones", async () => {
  const events: EngineEvent[] = interleave(
    scriptSample({ request: 0, sample: 0, tokens: ["4", "2"] }),
    scriptSample({ request: 0, sample: 1, tokens: ["4", "1"] }),
    scriptSample({ request: 1, sample: 0, tokens: ["?"], reason: "cancelled" }),
  );
  const engine = new FakeEngine(events);
  const graded: string[] = [];
  const reporter = await reportBatch(
    engine.generate([], { temperature: 1, topP: 1, maxTokens: 8 }),
    {
      totalSamples: 3,
      stderr: sink(),
      stdout: sink(),
      tty: false,
      grade: (event) => {
        graded.push(`${event.request}:${event.sample}`);
        return { correct: event.text === "42", extracted: event.text };
      },
    },
  );
  assert.deepEqual(graded, ["0:0", "0:1"]);
  const state = reporter.state;
  assert.deepEqual([state.doneNow, state.cancelled, state.tokensSeen], [2, 1, 5]);
  assert.equal(state.verdicts.get(0)?.get(0)?.correct, true);
  assert.equal(state.verdicts.get(0)?.get(1)?.correct, false);
});

Deno.test("metrics table: accuracies as percentages, ks in numeric order, other numbers as they are", () => {
  const table = formatMetricsTable({
    meanAccuracy: 0.6125,
    run0Accuracy: 0.6,
    passAtK: { "16": 0.9, "2": 0.7, "1": 0.6125 },
    majAtK: { "2": 0.65 },
    samples: 80,
    byDifficulty: { "1": 0.95, "5": { mean: 0.25 }, label: "x" },
    nested: [1, 2],
  });
  assert.equal(
    table,
    [
      "metric                value",
      "---------------------------",
      "mean accuracy        61.25%",
      "run-0 accuracy       60.00%",
      "pass@1               61.25%",
      "pass@2               70.00%",
      "pass@16              90.00%",
      "maj@2                65.00%",
      "samples                  80",
      "byDifficulty.1       0.9500",
      "byDifficulty.5.mean  0.2500",
      "",
    ].join("\n"),
  );
});
