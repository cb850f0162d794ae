/** The `rast debug` view rendered from hand-written DebugStep records, and its keys over a script. */
import assert from "node:assert/strict";
import type { ReactNode } from "react";
import { render } from "ink-testing-library";
import stringWidth from "string-width";
import type { DebugStep, TopToken } from "../engine/debugger.ts";
import type { FinishReason } from "../engine/events.ts";
import { DebugView } from "../tui/app/components/debug_view.tsx";
import { PaletteContext } from "../tui/app/components/lines.tsx";
import { DebugApp, type DebugStepper } from "../tui/app/debug_app.tsx";
import { makePalette } from "../tui/app/palette.ts";

const ESC = "\x1b";

const top = (...entries: [number, string, number][]): TopToken[] =>
  entries.map(([id, text, prob]) => ({ id, text, prob, logit: Math.log(prob) }));

/** Step 3 of " Tom had 2": the pair lifts "2" from 0.084 (base) to 0.317 (combined). */
function sampleStep(overrides: Partial<DebugStep> = {}): DebugStep {
  return {
    step: 3,
    position: 21,
    chosen: { id: 17, text: "2", baseProb: 0.084, combinedProb: 0.317, delta: 2.23 },
    base: top([3643, " makes", 0.114], [17, "2", 0.084], [1030, " had", 0.079]),
    combined: top([17, "2", 0.317], [3643, " makes", 0.171], [1181, " its", 0.084]),
    pairs: [{
      weight: 1,
      positive: top([20, "5", 0.147], [17, "2", 0.12], [2310, " old", 0.088]),
      negative: top([2310, " old", 0.128], [311, " to", 0.123], [1083, " also", 0.042]),
    }],
    stats: {
      baseLogprob: Math.log(0.084),
      combinedLogprob: Math.log(0.317),
      delta: 2.23,
      boosted: [{ id: 17, text: "2", delta: 1.65 }, { id: 481, text: " -", delta: 1.44 }],
      suppressed: [{ id: 1083, text: " also", delta: -0.86 }],
      baseEntropy: 3.79,
      combinedEntropy: 3.24,
      klCombinedBase: 0.25,
      baseArgmax: 0,
    },
    text: " Tom had 2",
    ...overrides,
  };
}

const PIECES = [
  { text: " Tom", delta: 0 },
  { text: " had", delta: -0.1 },
  { text: " 2", delta: 2.23 },
];

function frame(node: ReactNode, color = false): string[] {
  const r = render(
    <PaletteContext.Provider value={makePalette(color)}>{node}</PaletteContext.Provider>,
  );
  const out = r.lastFrame() ?? "";
  r.unmount();
  return out.split("\n");
}

const view = (columns: number, rows = 24, step = sampleStep()) => (
  <DebugView
    step={step}
    pieces={PIECES}
    question="Tom has 12 apples. How many are left?"
    title="demo trio"
    status="ready"
    k={3}
    columns={columns}
    rows={rows}
  />
);

Deno.test("the debug view shows the four lists with probabilities, the chosen token and deltas", () => {
  const lines = frame(view(100));
  const text = lines.join("\n");
  assert.ok(lines[0].startsWith("rast debug · demo trio · step 3 · 4 tok"), lines[0]);
  assert.ok(text.includes("Q Tom has 12 apples. How many are left?"));
  assert.ok(
    text.includes("chosen 2  base 0.084 → rast 0.317  δ +2.23  H 3.79→3.24  KL 0.25"),
    text,
  );
  const titles = lines.find((l) => l.startsWith("base"))!;
  assert.match(titles, /^base +pos ×1 +neg ×1 +rast \(combined\)/);
  // Column 1 is base, column 4 is combined; the chosen token is marked where it appears.
  const first = lines[lines.indexOf(titles) + 1];
  assert.match(first, /^ ␣makes +0\.114 +5 +0\.147 +␣old +0\.128 +›2 +0\.317$/);
  const second = lines[lines.indexOf(titles) + 2];
  assert.match(second, /^›2 +0\.084 +›2 +0\.120 +␣to +0\.123 +␣makes +0\.171$/);
  assert.ok(text.includes("δ+ 2 +1.65  ␣- +1.44"), text);
  assert.ok(text.includes("δ− ␣also -0.86"), text);
  assert.ok(text.includes(" Tom had 2"), text);
  assert.ok(lines[lines.length - 1].includes("n sentence · e end · q quit · ready"));
  assert.ok(!text.includes(ESC), "no escape codes with colour off");
  assert.ok(lines.length <= 24, `fits 24 rows (${lines.length})`);
});

Deno.test("on a 40-column terminal the lists wrap two per row and no line overflows", () => {
  const lines = frame(view(40));
  for (const line of lines) assert.ok(stringWidth(line) <= 40, `too wide: ${line}`);
  const titleRows = lines.filter((l) => /^(base|neg)/.test(l));
  assert.equal(titleRows.length, 2);
  assert.match(titleRows[0], /^base +pos ×1/);
  assert.match(titleRows[1], /^neg ×1 +rast \(combined\)/);
});

Deno.test("with colour the answer's boosted token is green and the chosen entries accented", () => {
  const text = frame(view(100), true).join("\n");
  assert.ok(text.includes(`${ESC}[38;5;`), "some colour");
  // δ +2.23 is shade 2 of 0..4 ((2.23 - 0.25) / 3.75 · 5 = 2.6): colour 34 of the greens.
  assert.ok(text.includes(`${ESC}[38;5;34m 2${ESC}[39m`), "the +2.23 piece is drawn green");
  assert.ok(text.includes(`${ESC}[38;5;75m›2`), "the chosen entry is accented");
});

Deno.test("before the first step the view says how to start; no pairs shows no deltas", () => {
  const empty = frame(
    <DebugView pieces={[]} question="Q?" title="t" status="ready" k={3} columns={80} rows={24} />,
  ).join("\n");
  assert.ok(empty.includes("chosen: –"));
  assert.ok(empty.includes("(no tokens yet: press space to decode one)"));
  const plain = frame(view(80, 24, sampleStep({ pairs: [] }))).join("\n");
  assert.ok(plain.includes("δ: no steering pairs"));
  assert.ok(!plain.includes("pos ×"));
});

/** A stepper over a fixed token script; the last token finishes with "stop". */
class ScriptedStepper implements DebugStepper {
  finished: FinishReason | null = null;
  calls = 0;
  #text = "";
  constructor(readonly pieces: string[]) {}
  async step(): Promise<DebugStep | null> {
    if (this.finished) return null;
    await new Promise((resolve) => setTimeout(resolve, 2));
    const i = this.calls++;
    this.#text += this.pieces[i];
    const last = i === this.pieces.length - 1;
    if (last) this.finished = "stop";
    return sampleStep({
      step: i,
      chosen: { id: 100 + i, text: this.pieces[i], baseProb: 0.1, combinedProb: 0.2, delta: 0.5 },
      text: this.#text,
      ...(last ? { finished: "stop" as const } : {}),
    });
  }
}

async function waitFor(what: string, condition: () => boolean): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > 10000) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("keys: space steps one token, n to the sentence end, e to the end, q exits", async () => {
  const stepper = new ScriptedStepper(["The", " sum", " is", " 5", ".", " Done", " now", "!"]);
  const traced: number[] = [];
  let exits = 0;
  const r = render(
    <DebugApp
      stepper={stepper}
      question="What is 2+3?"
      title="script"
      k={3}
      color={false}
      columns={80}
      rows={24}
      onStep={(s) => traced.push(s.step)}
      onExit={() => exits++}
    />,
  );
  const shows = (text: string) => waitFor(text, () => (r.lastFrame() ?? "").includes(text));
  await new Promise((resolve) => setTimeout(resolve, 20));
  r.stdin.write(" ");
  await shows("step 0 · 1 tok");
  assert.equal(stepper.calls, 1);
  r.stdin.write("n");
  await shows("The sum is 5.");
  await shows("· ready");
  assert.equal(stepper.calls, 5, "stopped at the sentence end");
  r.stdin.write("e");
  await shows("finished (stop)");
  assert.ok((r.lastFrame() ?? "").includes("The sum is 5. Done now!"));
  assert.deepEqual(traced, [0, 1, 2, 3, 4, 5, 6, 7], "every step reported once, in order");
  r.stdin.write(" ");
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(stepper.calls, 8, "nothing is decoded after the end");
  r.stdin.write("q");
  await waitFor("exit", () => exits === 1);
  r.unmount();
});
