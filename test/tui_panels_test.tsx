/** Each panel rendered with ink-testing-library from scripted engine events. */
import assert from "node:assert/strict";
import type { ReactNode } from "react";
import { render } from "ink-testing-library";
import stringWidth from "string-width";
import type { EngineEvent } from "../engine/events.ts";
import { summarizeAccuracy } from "../tui/app/accuracy.ts";
import { AccuracyPanel } from "../tui/app/components/accuracy_panel.tsx";
import { AnswerStream } from "../tui/app/components/answer_stream.tsx";
import { ChosenTokenPanel } from "../tui/app/components/chosen_token.tsx";
import { Header } from "../tui/app/components/header.tsx";
import { HeatmapStrip } from "../tui/app/components/heatmap_strip.tsx";
import { HelpOverlay } from "../tui/app/components/help_overlay.tsx";
import { PaletteContext } from "../tui/app/components/lines.tsx";
import { RastView } from "../tui/app/components/rast_view.tsx";
import { StatusLine } from "../tui/app/components/status_line.tsx";
import { colorFromEnv, makePalette } from "../tui/app/palette.ts";
import {
  initialState,
  reduce,
  selectedSample,
  type TuiAction,
  type TuiState,
} from "../tui/app/state.ts";
import { interleave, scriptSample, tokenEvent } from "./support/fake_engine.ts";

const ESC = "\x1b";

/** Renders, returns the last frame's lines, unmounts. */
function frame(node: ReactNode, color = false): string[] {
  const r = render(
    <PaletteContext.Provider value={makePalette(color)}>{node}</PaletteContext.Provider>,
  );
  const out = r.lastFrame() ?? "";
  r.unmount();
  return out.split("\n");
}

const QUESTIONS = [
  "What is 6 × 7? Give the final answer in a box, as usual for these problems.",
  "What is 3 + 4?",
];

/** Sample 0:0 streaming "The answer is 42", 0:1 started, 1:0 finished and graded, a progress event. */
function scriptedState(opts: { finishedToo: boolean }): TuiState {
  const live0: EngineEvent[] = [
    { kind: "started", request: 0, sample: 0, promptTokens: 20 },
    tokenEvent(0, 0, {
      text: "The",
      delta: 4.5,
      baseProb: 0.2,
      combinedProb: 0.6,
      boosted: [[2, "b", 1]],
    }),
    tokenEvent(0, 0, {
      text: " answer",
      delta: -4.2,
      boosted: [[2, "b", 4]],
      suppressed: [[9, "z", -2]],
    }),
    tokenEvent(0, 0, { text: " is", delta: 0.1 }),
    tokenEvent(0, 0, { text: " 42", delta: 1 }),
  ];
  const live1: EngineEvent[] = [
    { kind: "started", request: 0, sample: 1, promptTokens: 20 },
    tokenEvent(0, 1, { text: "Let", delta: 0 }),
  ];
  const actions: TuiAction[] = interleave(live0, live1).map((event) => ({ type: "engine", event }));
  if (opts.finishedToo) {
    for (const event of scriptSample({ request: 1, sample: 0, tokens: ["So 3+4=", "7"] })) {
      actions.push({ type: "engine", event });
    }
  }
  actions.push({
    type: "verdict",
    verdict: { request: 1, sample: 0, correct: true, extracted: "7" },
  });
  actions.push({
    type: "engine",
    event: {
      kind: "progress",
      tokensPerSecond: 1234,
      active: 2,
      waiting: 0,
      memory: { blocksUsed: 12, blocksTotal: 48, blockSize: 16 },
    },
  });
  return reduce(initialState({ now: 0, totalSamples: 10 }), { type: "batch", now: 5000, actions });
}

function assertFits(lines: string[], columns: number, rows: number) {
  assert.ok(
    lines.length <= rows - 1,
    `${lines.length} lines for ${rows} rows:\n${lines.join("\n")}`,
  );
  for (const line of lines) {
    assert.ok(stringWidth(line) <= columns, `too wide for ${columns}: "${line}"`);
  }
}

Deno.test("the whole screen fits 80x24 and shows every panel", () => {
  const lines = frame(
    <RastView
      state={scriptedState({ finishedToo: false })}
      columns={80}
      rows={24}
      questions={QUESTIONS}
      title="demo"
    />,
  );
  assertFits(lines, 80, 24);
  const text = lines.join("\n");
  for (
    const expected of [
      "rast · demo · q0 s0 · 4 tok · 1/2 live",
      "Q0 What is 6 × 7?",
      "The answer is 42",
      "heatmap · last 4 steps",
      "chosen",
      "base 0.500 → rast 0.500",
      "q0 ▸▸",
      "1234 tok/s",
      "0/10 samples",
      "KV 12/48 blocks",
    ]
  ) {
    assert.ok(text.includes(expected), `missing "${expected}" in:\n${text}`);
  }
});

Deno.test("a 40-column terminal: nothing wider than 40, the answer and status still shown", () => {
  const lines = frame(
    <RastView
      state={scriptedState({ finishedToo: false })}
      columns={40}
      rows={24}
      questions={QUESTIONS}
    />,
    true,
  );
  assertFits(lines, 40, 24);
  const plain = lines.join("\n").replaceAll(new RegExp(`${ESC}\\[[0-9;]*m`, "g"), "");
  assert.ok(plain.includes("The answer is 42"), plain);
  assert.ok(plain.includes("tok/s"), plain);
});

Deno.test("a short terminal drops the heatmap before the answer", () => {
  const lines = frame(
    <RastView
      state={scriptedState({ finishedToo: false })}
      columns={80}
      rows={12}
      questions={QUESTIONS}
    />,
  );
  assertFits(lines, 80, 12);
  const text = lines.join("\n");
  assert.ok(!text.includes("heatmap"), text);
  assert.ok(text.includes("The answer is 42"), text);
});

Deno.test("a wide terminal puts the heatmap beside the answer and uses the extra rows", () => {
  const lines = frame(
    <RastView
      state={scriptedState({ finishedToo: false })}
      columns={140}
      rows={40}
      questions={QUESTIONS}
    />,
  );
  assertFits(lines, 140, 40);
  assert.ok(
    lines.some((line) => line.includes("Q0 What") && line.includes("heatmap")),
    lines.join("\n"),
  );
  assert.ok(lines.length > 30, "the answer grows into the extra rows");
});

Deno.test("NO_COLOR: no escape codes anywhere; colour on: deltas coloured by sign and size", () => {
  const state = scriptedState({ finishedToo: true });
  const plain = frame(
    <RastView state={state} columns={80} rows={24} questions={QUESTIONS} />,
    false,
  ).join("\n");
  assert.ok(!plain.includes(ESC), JSON.stringify(plain));
  const colored = frame(
    <RastView state={state} columns={80} rows={24} questions={QUESTIONS} />,
    true,
  ).join("\n");
  // δ +4.5 → brightest green (46); δ −4.2 → brightest red (196); δ +0.1 is below the floor;
  // δ +1 → second green (28). (Ink merges adjacent escape codes.)
  assert.ok(
    colored.includes(`${ESC}[38;5;46mThe${ESC}[38;5;196m answer${ESC}[39m is`),
    JSON.stringify(colored),
  );
  assert.ok(colored.includes(`${ESC}[38;5;28m 42${ESC}[39m`), JSON.stringify(colored));
  assert.equal(colorFromEnv(new Map([["NO_COLOR", "1"]])), false);
  assert.equal(colorFromEnv(new Map([["NO_COLOR", ""]])), true);
  assert.equal(colorFromEnv(new Map([["FORCE_COLOR", "0"]])), false);
  assert.equal(colorFromEnv(new Map()), true);
});

Deno.test("finished samples go to the scrollback with their verdict and answer text", () => {
  const text = frame(
    <RastView
      state={scriptedState({ finishedToo: true })}
      columns={80}
      rows={24}
      questions={QUESTIONS}
    />,
  ).join("\n");
  assert.ok(text.includes("✓ q1 s0 · stop · 2 tok · answer 7"), text);
  assert.ok(text.includes("  So 3+4=7"), text);
});

Deno.test("answer stream: the last lines of the selected sample, or why there is none", () => {
  const sample = selectedSample(scriptedState({ finishedToo: false }));
  assert.deepEqual(frame(<AnswerStream sample={sample} idle="-" width={8} height={2} />), [
    "answer",
    "is 42",
  ]);
  assert.deepEqual(frame(<AnswerStream idle="waiting for the engine…" width={30} height={1} />), [
    "waiting for the engine…",
  ]);
});

Deno.test("heatmap strip: one bar per step, height by delta size, blank where a token was not listed", () => {
  const sample = selectedSample(scriptedState({ finishedToo: false }))!;
  const lines = frame(<HeatmapStrip steps={sample.steps} rowsPerSign={1} width={30} />);
  // Steps: b +1 (level 1 "▃"), b +4 (level 4 "█"), none, none; z −2 at step 2 (level 2 "▄").
  assert.deepEqual(lines.map((l) => l.trimEnd()), [
    "heatmap · last 4 steps · + bo…",
    "+b        ▃█",
    "-z         ▄",
  ]);
  const colored = frame(<HeatmapStrip steps={sample.steps} rowsPerSign={1} width={30} />, true)
    .join("\n");
  assert.ok(
    colored.includes(`${ESC}[38;5;28m▃${ESC}[38;5;46m█${ESC}[39m`),
    JSON.stringify(colored),
  );
});

Deno.test("chosen token: base vs combined probability, one line or with bars", () => {
  const state = reduce(initialState({ now: 0, totalSamples: 1 }), {
    type: "engine",
    event: tokenEvent(0, 0, { text: " The", delta: 1.5, baseProb: 0.2, combinedProb: 0.6 }),
  });
  const chosen = selectedSample(state)?.chosen;
  assert.deepEqual(frame(<ChosenTokenPanel chosen={chosen} width={80} height={1} />), [
    "chosen ␣The  base 0.200 → rast 0.600  δ +1.50  H 1.00→0.50  KL 0.25",
  ]);
  const bars = frame(<ChosenTokenPanel chosen={chosen} width={40} height={3} />);
  assert.equal(bars[1], "base 0.200 " + "█".repeat(6) + "·".repeat(22));
  assert.equal(bars[2], "rast 0.600 " + "█".repeat(17) + "·".repeat(11));
});

Deno.test("accuracy panel: mean, pass@k, maj@k and the question's verdict strip", () => {
  const verdicts = new Map([[
    0,
    new Map([
      [0, { request: 0, sample: 0, correct: true, extracted: "42" }],
      [1, { request: 0, sample: 1, correct: false, extracted: "41" }],
    ]),
  ]]);
  const lines = frame(
    <AccuracyPanel
      summary={summarizeAccuracy(verdicts)}
      request={0}
      verdicts={verdicts.get(0)}
      liveSamples={[2]}
      samplesPerRequest={4}
      width={80}
      height={2}
    />,
  );
  assert.deepEqual(lines, [
    "acc 50.0% (1/2) · pass@1 50.0% · pass@2 100.0%",
    "q0 ✓✗▸·  maj@1 100.0% · maj@2 100.0%",
  ]);
  const empty = frame(
    <AccuracyPanel summary={summarizeAccuracy(new Map())} liveSamples={[]} width={80} height={2} />,
  );
  assert.equal(empty[0], "accuracy: no graded sample yet");
});

Deno.test("status line, header and help", () => {
  const throughput = {
    tokensPerSecond: 1234,
    done: 4,
    total: 10,
    elapsedSeconds: 10,
    etaSeconds: 30,
  };
  const status = (paused: boolean) =>
    frame(
      <StatusLine
        throughput={throughput}
        memory={{ blocksUsed: 12, blocksTotal: 48, blockSize: 16 }}
        active={3}
        waiting={1}
        paused={paused}
        ended={false}
        quitting={false}
        width={120}
      />,
    )[0];
  assert.equal(
    status(false),
    "1234 tok/s · 4/10 samples · ETA 30s · KV 12/48 blocks · 3 active 1 waiting · ? help",
  );
  assert.ok(status(true).endsWith("· paused (space resumes)"));
  const header = frame(<Header title="t" position={0} live={0} paused width={40} />)[0];
  assert.equal(header, "rast · t · no live sample ⏸ PAUSED");
  const help = frame(<HelpOverlay width={80} height={12} />).join("\n");
  assert.ok(help.includes("q, ctrl+c") && help.includes("quit (work so far is saved)"), help);
  assert.ok(help.includes("space, p") && help.includes("tab, right, ]"), help);
});

Deno.test("a finished answer is wrapped with its indent kept, blank lines dropped", () => {
  let state = initialState({ now: 0, totalSamples: 1 });
  const long = "alpha beta gamma delta epsilon zeta eta theta";
  state = reduce(state, {
    type: "batch",
    now: 1,
    actions: scriptSample({ request: 0, sample: 0, tokens: [long, "\n\n", "end"] })
      .map((event): TuiAction => ({ type: "engine", event })),
  });
  const lines = frame(<RastView state={state} columns={30} rows={24} />);
  assert.deepEqual(lines.slice(0, 4).map((l) => l.trimEnd()), [
    "• q0 s0 · stop · 3 tok",
    "  alpha beta gamma delta",
    "  epsilon zeta eta theta",
    "  end",
  ]);
});
