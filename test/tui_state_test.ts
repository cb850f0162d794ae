/** The TUI reducer against hand-worked event sequences. */
import assert from "node:assert/strict";
import type { EngineEvent } from "../engine/events.ts";
import { heatWindow } from "../tui/app/heatmap.ts";
import {
  initialState,
  lastLines,
  piecesOf,
  reduce,
  selectedSample,
  type Step,
  throughput,
  type TuiAction,
  type TuiState,
} from "../tui/app/state.ts";
import { interleave, scriptSample, tokenEvent } from "./support/fake_engine.ts";

function feed(state: TuiState, events: EngineEvent[], now = state.now): TuiState {
  return reduce(state, {
    type: "batch",
    now,
    actions: events.map((event) => ({ type: "engine", event })),
  });
}

const fresh = (totalSamples = 10, doneBefore = 0) =>
  initialState({ now: 0, totalSamples, doneBefore });

Deno.test("tokens build the answer pieces with their deltas and the chosen token's probabilities", () => {
  const events: EngineEvent[] = [
    { kind: "started", request: 0, sample: 0, promptTokens: 12 },
    tokenEvent(0, 0, { text: "The", delta: 1.5, baseProb: 0.2, combinedProb: 0.6 }),
    tokenEvent(0, 0, { text: " answer", delta: -0.5 }),
    tokenEvent(0, 0, { text: "", delta: 2 }),
    tokenEvent(0, 0, { text: " is", delta: 0, id: 7 }),
  ];
  const afterFirst = feed(fresh(), events.slice(0, 2));
  const chosen = selectedSample(afterFirst)?.chosen;
  assert.ok(chosen);
  assert.ok(Math.abs(chosen.baseProb - 0.2) < 1e-12 && Math.abs(chosen.combinedProb - 0.6) < 1e-12);
  assert.equal(chosen.delta, 1.5);

  const state = feed(fresh(), events);
  const sample = selectedSample(state);
  assert.ok(sample);
  assert.equal(sample.promptTokens, 12);
  assert.equal(sample.tokens, 4);
  assert.equal(state.tokensSeen, 4);
  // The empty piece (an incomplete UTF-8 sequence) adds no text.
  assert.deepEqual(piecesOf(sample), [
    { text: "The", delta: 1.5 },
    { text: " answer", delta: -0.5 },
    { text: " is", delta: 0 },
  ]);
  assert.equal(sample.chosen?.id, 7);
  assert.equal(sample.steps.length, 4);
});

Deno.test("the answer keeps its last maxPieces pieces, and two reductions of one state do not mix", () => {
  let state = initialState({ now: 0, totalSamples: 1, limits: { maxPieces: 3 } });
  for (let i = 0; i < 10; i++) state = feed(state, [tokenEvent(0, 0, { text: String(i) })]);
  assert.deepEqual(piecesOf(selectedSample(state)!).map((p) => p.text), ["7", "8", "9"]);

  const base = feed(fresh(), [tokenEvent(0, 0, { text: "a" })]);
  const left = feed(base, [tokenEvent(0, 0, { text: "L" })]);
  const right = feed(base, [tokenEvent(0, 0, { text: "R" })]);
  assert.deepEqual(piecesOf(selectedSample(base)!).map((p) => p.text), ["a"]);
  assert.deepEqual(piecesOf(selectedSample(left)!).map((p) => p.text), ["a", "L"]);
  assert.deepEqual(piecesOf(selectedSample(right)!).map((p) => p.text), ["a", "R"]);
});

Deno.test("selection: first started is shown, next/previous cycle, a finished selected sample hands on", () => {
  const started = (request: number, sample: number): EngineEvent => ({
    kind: "started",
    request,
    sample,
    promptTokens: 1,
  });
  const finished = (request: number, sample: number): EngineEvent => ({
    kind: "finished",
    request,
    sample,
    reason: "stop",
    text: "",
    tokens: [],
  });
  let s = feed(fresh(), [started(0, 0), started(0, 1), started(1, 0)]);
  assert.equal(s.selected, "0:0");
  const step = (action: TuiAction) => (s = reduce(s, action)).selected;
  assert.equal(step({ type: "selectNext" }), "0:1");
  assert.equal(step({ type: "selectNext" }), "1:0");
  assert.equal(step({ type: "selectNext" }), "0:0");
  assert.equal(step({ type: "selectPrevious" }), "1:0");
  assert.equal(step({ type: "selectNext" }), "0:0");
  assert.equal(step({ type: "selectNext" }), "0:1");
  s = feed(s, [finished(0, 1)]);
  assert.equal(s.selected, "1:0");
  s = feed(s, [finished(1, 0)]);
  assert.equal(s.selected, "0:0");
  s = feed(s, [finished(0, 0)]);
  assert.equal(s.selected, undefined);
  s = feed(s, [started(2, 0)]);
  assert.equal(s.selected, "2:0");
});

Deno.test("throughput: done counts resumed samples, ETA from this session's rate, pauses excluded", () => {
  // 10 samples, 2 done before; two finish in the first 10 s with 8 tokens.
  let s = fresh(10, 2);
  s = feed(
    s,
    interleave(
      scriptSample({ request: 0, sample: 0, tokens: ["a", "b", "c", "d"] }),
      scriptSample({ request: 0, sample: 1, tokens: ["e", "f", "g", "h"] }),
    ),
    10_000,
  );
  let t = throughput(s);
  assert.equal(t.done, 4);
  assert.equal(t.total, 10);
  assert.equal(t.elapsedSeconds, 10);
  assert.equal(t.tokensPerSecond, 0.8);
  assert.equal(t.etaSeconds, 6 * 10 / 2);

  s = reduce(s, { type: "togglePause", now: 10_000 });
  s = reduce(s, { type: "tick", now: 20_000 });
  assert.equal(throughput(s).elapsedSeconds, 10);
  s = reduce(s, { type: "togglePause", now: 25_000 });
  s = reduce(s, { type: "tick", now: 30_000 });
  t = throughput(s);
  assert.equal(s.pausedMs, 15_000);
  assert.equal(t.elapsedSeconds, 15);
  assert.equal(t.etaSeconds, 6 * 15 / 2);

  // The engine's own figure wins once it reports one; memory comes from progress too.
  s = feed(s, [{
    kind: "progress",
    tokensPerSecond: 123,
    active: 3,
    waiting: 1,
    memory: { blocksUsed: 5, blocksTotal: 8, blockSize: 16 },
  }]);
  assert.equal(throughput(s).tokensPerSecond, 123);
  assert.deepEqual([s.active, s.waiting, s.memory?.blocksUsed], [3, 1, 5]);
  assert.equal(throughput(fresh()).etaSeconds, undefined);
});

Deno.test("cancelled samples are not done; finished text keeps its last lines", () => {
  let s = initialState({ now: 0, totalSamples: 4, limits: { finishedTextLines: 2 } });
  s = feed(s, scriptSample({ request: 0, sample: 0, tokens: ["a\n", "b\n", "c\n", "d\n"] }));
  s = feed(s, scriptSample({ request: 0, sample: 1, tokens: ["x"], reason: "cancelled" }));
  assert.equal(s.doneNow, 1);
  assert.equal(s.cancelled, 1);
  assert.deepEqual(s.finished.map((f) => [f.key, f.reason, f.tokens, f.text]), [
    ["0:0", "stop", 4, "c\nd"],
    ["0:1", "cancelled", 1, "x"],
  ]);
  assert.equal(lastLines("a\n\nb\n \n", Infinity), "a\nb");
  assert.equal(lastLines("a\n\nb\n \n", 1), "b");
});

Deno.test("a verdict in the same batch as its finished event marks the scrollback entry; a later one does not", () => {
  let s = fresh();
  const done = scriptSample({ request: 3, sample: 1, tokens: ["42"] });
  s = reduce(s, {
    type: "batch",
    now: 1,
    actions: [
      ...done.map((event): TuiAction => ({ type: "engine", event })),
      { type: "verdict", verdict: { request: 3, sample: 1, correct: true, extracted: "42" } },
    ],
  });
  assert.deepEqual(s.finished[0].verdict, {
    request: 3,
    sample: 1,
    correct: true,
    extracted: "42",
  });
  s = feed(s, scriptSample({ request: 3, sample: 2, tokens: ["41"] }));
  const before = s.finished[1];
  s = reduce(s, {
    type: "verdict",
    verdict: { request: 3, sample: 2, correct: false, extracted: "41" },
  });
  assert.equal(s.finished[1], before, "an entry already on screen is left as it was");
  assert.equal(s.verdicts.get(3)?.size, 2);
});

Deno.test("errors keep the last three, with the request named", () => {
  let s = fresh();
  for (let i = 0; i < 4; i++) {
    s = feed(s, [{ kind: "error", request: i === 3 ? 9 : undefined, message: `e${i}` }]);
  }
  assert.deepEqual(s.errors, ["e1", "e2", "request 9: e3"]);
  s = reduce(s, { type: "ended", now: 5, error: "stream broke" });
  assert.deepEqual(s.errors, ["e2", "request 9: e3", "stream broke"]);
  assert.equal(s.endedAt, 5);
});

Deno.test("panels, help and quitting toggle", () => {
  let s = fresh();
  s = reduce(s, { type: "togglePanel", panel: "heatmap" });
  assert.equal(s.panels.heatmap, false);
  assert.equal(s.panels.stats, true);
  s = reduce(s, { type: "toggleHelp" });
  assert.equal(s.help, true);
  s = reduce(s, { type: "closeHelp" });
  assert.equal(s.help, false);
  assert.equal(reduce(s, { type: "quitting" }).quitting, true);
});

const step = (
  boosted: [number, string, number][],
  suppressed: [number, string, number][],
): Step => ({
  id: 0,
  text: "",
  delta: 0,
  boosted: boosted.map(([id, text, delta]) => ({ id, text, delta })),
  suppressed: suppressed.map(([id, text, delta]) => ({ id, text, delta })),
});

Deno.test("heatmap window: rows are the tokens with the largest summed delta, cells per step", () => {
  const steps = [
    step([[1, "a", 2], [2, "b", 1]], [[9, "z", -3]]),
    step([[2, "b", 3]], [[9, "z", -1], [8, "y", -2]]),
    step([[3, "c", 0.5], [1, "a", 1]], [[8, "y", -0.5]]),
  ];
  // Totals over 3 steps: b 4, a 3, c 0.5; z -4, y -2.5.
  const all = heatWindow(steps, { columns: 3, rowsPerSign: 2 });
  assert.equal(all.steps, 3);
  assert.deepEqual(all.boosted.map((r) => [r.text, r.total, r.cells]), [
    ["b", 4, [1, 3, null]],
    ["a", 3, [2, null, 1]],
  ]);
  assert.deepEqual(all.suppressed.map((r) => [r.text, r.total, r.cells]), [
    ["z", -4, [-3, -1, null]],
    ["y", -2.5, [null, -2, -0.5]],
  ]);
  // The last 2 steps only: b 3, a 1, c 0.5; y -2.5, z -1.
  const last = heatWindow(steps, { columns: 2, rowsPerSign: 2 });
  assert.deepEqual(last.boosted.map((r) => [r.text, r.cells]), [["b", [3, null]], ["a", [
    null,
    1,
  ]]]);
  assert.deepEqual(last.suppressed.map((r) => [r.text, r.cells]), [["y", [-2, -0.5]], ["z", [
    -1,
    null,
  ]]]);
});

Deno.test("the reducer keeps the last heatSteps steps of a sample", () => {
  let s = initialState({ now: 0, totalSamples: 1, limits: { heatSteps: 2 } });
  s = feed(s, [
    tokenEvent(0, 0, { text: "x", id: 1, boosted: [[5, "p", 1]] }),
    tokenEvent(0, 0, { text: "y", id: 2, boosted: [[6, "q", 2]] }),
    tokenEvent(0, 0, { text: "z", id: 3, suppressed: [[7, "r", -1]] }),
  ]);
  const steps = selectedSample(s)!.steps;
  assert.deepEqual(steps.map((st) => st.id), [2, 3]);
  assert.deepEqual(steps[0].boosted, [{ id: 6, text: "q", delta: 2 }]);
});
