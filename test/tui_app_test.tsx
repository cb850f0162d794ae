/** The live app over a fake engine: keys, pause back-pressure, capped redraws, quit, NO_COLOR. */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { render } from "ink-testing-library";
import type { EngineEvent } from "../engine/events.ts";
import { RastApp, type StreamControls } from "../tui/app/app.tsx";
import { startTui, type TuiOptions } from "../tui/app/mod.ts";
import { FakeEngine, interleave, scriptSample, tokenEvent } from "./support/fake_engine.ts";

const OPTIONS = { temperature: 1, topP: 0.95, maxTokens: 64 };

async function waitFor(what: string, condition: () => boolean, timeoutMs = 30000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A long single-sample stream: started, then `count` tokens, then finished. */
function longSample(count: number): EngineEvent[] {
  return scriptSample({
    request: 0,
    sample: 0,
    tokens: Array.from({ length: count }, (_, i) => `t${i} `),
  });
}

Deno.test("runs to the end: graded samples in the scrollback, done status, onEnd called", async () => {
  const engine = new FakeEngine(interleave(
    scriptSample({ request: 0, sample: 0, tokens: ["x = ", "42"] }),
    scriptSample({ request: 0, sample: 1, tokens: ["x = ", "41"] }),
  ));
  let ended = 0;
  const r = render(
    <RastApp
      events={engine.generate([], OPTIONS)}
      totalSamples={2}
      questions={["Find x."]}
      color={false}
      grade={(event) => ({ correct: event.text.endsWith("42"), extracted: event.text.slice(-2) })}
      onEnd={() => ended++}
    />,
  );
  await waitFor("the end", () => ended === 1 && (r.lastFrame() ?? "").includes("done in"));
  const text = r.lastFrame() ?? "";
  assert.ok(text.includes("✓ q0 s0 · stop · 2 tok · answer 42"), text);
  assert.ok(text.includes("✗ q0 s1 · stop · 2 tok · answer 41"), text);
  assert.ok(text.includes("2/2 samples"), text);
  assert.ok(text.includes("acc 50.0% (1/2)"), text);
  assert.ok(engine.streamClosed);
  r.unmount();
});

Deno.test("q stops the stream, closes it and calls onQuit", async () => {
  const engine = new FakeEngine(longSample(2000), { delayMs: 2 });
  let quits = 0;
  const r = render(
    <RastApp
      events={engine.generate([], OPTIONS)}
      totalSamples={1}
      color={false}
      onQuit={() => quits++}
    />,
  );
  await waitFor("some tokens", () => engine.yielded > 10);
  r.stdin.write("q");
  await waitFor("onQuit", () => quits === 1);
  assert.ok(engine.streamClosed, "the engine's stream was closed (its finally ran)");
  const yielded = engine.yielded;
  await sleep(50);
  assert.equal(engine.yielded, yielded, "nothing is pulled after quitting");
  assert.ok((r.lastFrame() ?? "").includes("saving and quitting…"));
  r.stdin.write("q");
  await sleep(10);
  assert.equal(quits, 1, "a second q does nothing");
  r.unmount();
});

Deno.test("space pauses consumption itself (the engine is not pulled), space again resumes", async () => {
  const engine = new FakeEngine(longSample(3000), { delayMs: 1 });
  const r = render(
    <RastApp events={engine.generate([], OPTIONS)} totalSamples={1} color={false} />,
  );
  await waitFor("some tokens", () => engine.yielded > 20);
  r.stdin.write(" ");
  await sleep(30); // the pull in flight, if any, completes
  const atPause = engine.yielded;
  await sleep(200);
  assert.equal(engine.yielded, atPause, "no event was pulled while paused");
  assert.ok((r.lastFrame() ?? "").includes("⏸ PAUSED"));
  assert.ok((r.lastFrame() ?? "").includes("paused (space resumes)"));
  r.stdin.write("p");
  await waitFor("pulling again", () => engine.yielded > atPause + 20);
  assert.ok(!(r.lastFrame() ?? "").includes("PAUSED"));
  r.unmount();
  await waitFor("stream closed on unmount", () => engine.streamClosed);
});

Deno.test("tab, arrows and [ ] switch between live samples; ? and esc toggle the help", async () => {
  const engine = new FakeEngine([
    { kind: "started", request: 0, sample: 0, promptTokens: 3 },
    { kind: "started", request: 0, sample: 1, promptTokens: 3 },
    { kind: "started", request: 1, sample: 0, promptTokens: 3 },
    tokenEvent(0, 0, { text: "first answer" }),
    tokenEvent(0, 1, { text: "second answer" }),
    tokenEvent(1, 0, { text: "third answer" }),
  ]);
  let ended = false;
  const r = render(
    <RastApp
      events={engine.generate([], OPTIONS)}
      totalSamples={3}
      color={false}
      onEnd={() => ended = true}
    />,
  );
  await waitFor("the stream", () => ended && (r.lastFrame() ?? "").includes("first answer"));
  const shows = async (key: string, expected: string) => {
    r.stdin.write(key);
    await waitFor(
      `"${expected}" after ${JSON.stringify(key)}`,
      () => (r.lastFrame() ?? "").includes(expected),
    );
  };
  await shows("\t", "second answer");
  assert.ok((r.lastFrame() ?? "").includes("q0 s1 · 1 tok · 2/3 live"));
  await shows("\x1b[C", "third answer"); // right arrow
  await shows("]", "first answer"); // wraps around
  await shows("[", "third answer");
  await shows("\x1b[D", "second answer"); // left arrow
  await shows("\x1b[Z", "first answer"); // shift+tab
  await shows("?", "keys (? or esc closes)");
  await shows("?", "first answer");
  await shows("?", "quit (work so far is saved)");
  r.stdin.write("\x1b");
  await waitFor("help closed", () => !(r.lastFrame() ?? "").includes("keys (? or esc"));
  assert.ok((r.lastFrame() ?? "").includes("heatmap"));
  r.stdin.write("h");
  await waitFor("h hides the heatmap", () => !(r.lastFrame() ?? "").includes("heatmap"));
  r.stdin.write("h");
  await waitFor("h shows the heatmap", () => (r.lastFrame() ?? "").includes("heatmap"));
  r.unmount();
});

Deno.test("redraws are capped: 300 tokens, one a millisecond, give about 10 frames a second", async () => {
  const engine = new FakeEngine(longSample(300), { delayMs: 1 });
  let ended = false;
  const start = performance.now();
  const r = render(
    <RastApp
      events={engine.generate([], OPTIONS)}
      totalSamples={1}
      color={false}
      maxFlushesPerSecond={10}
      onEnd={() => ended = true}
    />,
  );
  await waitFor("the end", () => ended);
  const seconds = (performance.now() - start) / 1000;
  await sleep(20);
  // One frame per flush (≤ 10/s), per clock tick (1/s), plus the first and the final ones.
  const allowed = Math.ceil(seconds * 10) + Math.ceil(seconds) + 4;
  assert.ok(
    r.frames.length <= allowed,
    `${r.frames.length} frames in ${seconds.toFixed(2)} s (allowed ${allowed})`,
  );
  assert.ok((r.lastFrame() ?? "").includes("1/1 samples"));
  r.unmount();
});

Deno.test("NO_COLOR in the environment: the app writes no escape code", async () => {
  const previous = Deno.env.get("NO_COLOR");
  Deno.env.set("NO_COLOR", "1");
  try {
    const engine = new FakeEngine(
      scriptSample({
        request: 0,
        sample: 0,
        tokens: [{ text: "boosted", delta: 5 }, { text: "cut", delta: -5 }],
      }),
    );
    let ended = false;
    const r = render(
      <RastApp events={engine.generate([], OPTIONS)} totalSamples={1} onEnd={() => ended = true} />,
    );
    await waitFor("the end", () => ended && (r.lastFrame() ?? "").includes("boostedcut"));
    for (const f of r.frames) assert.ok(!f.includes("\x1b"), JSON.stringify(f));
    r.unmount();
  } finally {
    if (previous === undefined) Deno.env.delete("NO_COLOR");
    else Deno.env.set("NO_COLOR", previous);
  }
});

Deno.test("verdicts from outside arrive through the bound controls", async () => {
  const engine = new FakeEngine(scriptSample({ request: 0, sample: 0, tokens: ["7"] }));
  let controls: StreamControls | undefined;
  let ended = false;
  const r = render(
    <RastApp
      events={engine.generate([], OPTIONS)}
      totalSamples={1}
      color={false}
      bindControls={(c) => controls = c}
      onEnd={() => ended = true}
    />,
  );
  await waitFor("the end", () => ended && controls !== undefined);
  controls!.verdict({ request: 0, sample: 0, correct: true, extracted: "7" });
  await waitFor("the verdict", () => (r.lastFrame() ?? "").includes("acc 100.0% (1/1)"));
  r.unmount();
});

/** Minimal terminal streams for startTui (the shapes ink-testing-library uses). */
function fakeTerminal() {
  const stdout = Object.assign(new EventEmitter(), {
    columns: 80,
    rows: 24,
    isTTY: false,
    written: "",
    write(chunk: string) {
      stdout.written += chunk;
      return true;
    },
  });
  const stdin = Object.assign(new EventEmitter(), {
    isTTY: true,
    data: null as string | null,
    setEncoding() {},
    setRawMode() {},
    resume() {},
    pause() {},
    ref() {},
    unref() {},
    read() {
      const data = stdin.data;
      stdin.data = null;
      return data;
    },
    type(data: string) {
      stdin.data = data;
      stdin.emit("readable");
      stdin.emit("data", data);
    },
  });
  const streams = {
    stdout: stdout as unknown as TuiOptions["stdout"],
    stdin: stdin as unknown as TuiOptions["stdin"],
    stderr: stdout as unknown as TuiOptions["stderr"],
  };
  return { stdout, stdin, streams };
}

Deno.test("startTui resolves 'done' when the stream ends", async () => {
  const term = fakeTerminal();
  const engine = new FakeEngine(scriptSample({ request: 0, sample: 0, tokens: ["a", "b"] }));
  const session = startTui({
    events: engine.generate([], OPTIONS),
    totalSamples: 1,
    color: false,
    ...term.streams,
  });
  assert.deepEqual(await session.done, { reason: "done" });
  assert.ok(term.stdout.written.includes("1/1 samples"));
});

Deno.test("startTui: q stops the stream, unmounts, then awaits onQuit before resolving 'quit'", async () => {
  const term = fakeTerminal();
  const engine = new FakeEngine(longSample(5000), { delayMs: 2 });
  const order: string[] = [];
  const session = startTui({
    events: engine.generate([], OPTIONS),
    totalSamples: 1,
    color: false,
    ...term.streams,
    onQuit: async () => {
      order.push(`onQuit, stream closed: ${engine.streamClosed}`);
      await sleep(10);
      order.push("saved");
    },
  });
  await waitFor("some tokens", () => engine.yielded > 5);
  term.stdin.type("q");
  assert.deepEqual(await session.done, { reason: "quit" });
  assert.deepEqual(order, ["onQuit, stream closed: true", "saved"]);
});

Deno.test("startTui rejects with the stream's error", async () => {
  const term = fakeTerminal();
  async function* failing(): AsyncGenerator<EngineEvent> {
    yield { kind: "started", request: 0, sample: 0, promptTokens: 1 };
    throw new Error("device lost");
  }
  const session = startTui({ events: failing(), totalSamples: 1, color: false, ...term.streams });
  await assert.rejects(session.done, /device lost/);
});
