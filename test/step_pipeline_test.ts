// Pipelined decode steps (rast_group_step_launch / rast_group_step_wait): a step launched before
// the one before it is read, its tokens fed on the device, samples exactly what one blocking
// step after another samples (the reference: rast_group_step, token by token), also where the
// top-p nucleus outgrows the sampler's prefilter and the fed token has to be corrected.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Model } from "../engine/model.ts";
import { RastGroup, type Sampling, statsWidth } from "../engine/group.ts";
import type { SlotLayout } from "../engine/block_pool.ts";
import { type OpenedEngine, openEngine } from "../engine/mod.ts";
import { FIXTURES_DIR } from "./support/paths.ts";
import { FLOAT32 } from "./support/fixture_cases.ts";
import { initSlots } from "./support/slots.ts";

const dir = (m: string) => join(FIXTURES_DIR, m);
const PROMPTS = [[5, 17, 300, 42, 999, 7, 1100], [3, 1000, 64], [900, 12, 12, 77, 5]];
const STEPS = 8;
const SEEDS = BigUint64Array.of(11n, 12n, 13n);

async function openTrio() {
  const base = await Model.load(dir("base"), FLOAT32);
  const pos = await Model.load(dir("pos"), FLOAT32);
  const neg = await Model.load(dir("neg"), FLOAT32);
  const group = new RastGroup(base, [{ positive: pos, negative: neg, weight: 1 }]);
  return {
    group,
    [Symbol.dispose]() {
      group.close();
      for (const m of [base, pos, neg]) m.close();
    },
  };
}

// Every prompt but its last token into its slot; returns the slot layout.
async function prefill(group: RastGroup): Promise<SlotLayout> {
  const layout = await initSlots(group, PROMPTS.length, 16 + STEPS);
  await group.prefill({
    tokens: Int32Array.from(PROMPTS.flatMap((p) => p.slice(0, -1))),
    seqLens: Int32Array.from(PROMPTS, (p) => p.length - 1),
    startPos: new Int32Array(PROMPTS.length),
    ...layout.tables(PROMPTS.map((_, i) => i)),
  });
  return layout;
}

const decodeBatch = (layout: SlotLayout, tokens: number[], step: number) => ({
  tokens: Int32Array.from(tokens),
  seqLens: new Int32Array(PROMPTS.length).fill(1),
  startPos: Int32Array.from(PROMPTS, (p) => p.length - 1 + step),
  ...layout.tables(PROMPTS.map((_, i) => i)),
});

// The reference: one blocking step after another, each fed the tokens the host read.
async function blockingSteps(group: RastGroup, sampling: Sampling) {
  const layout = await prefill(group);
  const width = statsWidth(sampling.statsK);
  let tokens = PROMPTS.map((p) => p[p.length - 1]);
  const ids: number[][] = [], stats: Float32Array[] = [];
  for (let step = 0; step < STEPS; step++) {
    const out = { tokens: new Int32Array(3), stats: new Float32Array(3 * width) };
    await group.step(decodeBatch(layout, tokens, step), SEEDS, sampling, out);
    tokens = Array.from(out.tokens);
    ids.push(tokens);
    stats.push(out.stats);
  }
  return { ids, stats };
}

// Step t+1 launched, fed from step t's rows, and step t waited for: "concurrent" as the decoder
// does it (the wait runs while the launch does), "launch first" (the launch done before the
// wait starts), "wait first" (the shim then feeds step t+1 from the tokens it handed over).
type Order = "concurrent" | "launch first" | "wait first";
async function pipelinedSteps(group: RastGroup, sampling: Sampling, order: Order) {
  const layout = await prefill(group);
  const width = statsWidth(sampling.statsK);
  const feed = Int32Array.of(0, 1, 2);
  const ids: number[][] = [], stats: Float32Array[] = [];
  const first = PROMPTS.map((p) => p[p.length - 1]);
  await group.launch(decodeBatch(layout, first, 0), SEEDS, sampling, { stats: true });
  for (let step = 1; step <= STEPS; step++) {
    const out = { tokens: new Int32Array(3), stats: new Float32Array(3 * width) };
    if (order === "wait first") await group.wait(out);
    const launching = step < STEPS
      ? group.launch(decodeBatch(layout, [0, 0, 0], step), SEEDS, sampling, { feed, stats: true })
      : Promise.resolve();
    if (order === "launch first") await launching;
    if (order !== "wait first") await group.wait(out);
    await launching;
    ids.push(Array.from(out.tokens));
    stats.push(out.stats);
  }
  return { ids, stats };
}

const cases: [string, Sampling][] = [
  ["greedy", { temperature: 0, topP: 1, topK: 0, statsK: 4 }],
  ["T=1 p=0.95", { temperature: 1, topP: 0.95, topK: 0, statsK: 4 }],
  // Near-uniform over the 1,152 shared ids: every nucleus is wider than the 1,024-token
  // prefilter, so every fed token is corrected at its wait and every next step runs again.
  ["T=50 p=0.99", { temperature: 50, topP: 0.99, topK: 0, statsK: 4 }],
];
for (const [name, sampling] of cases) {
  Deno.test(`pipelined steps sample what blocking steps sample, token and statistics (${name})`, async () => {
    using trio = await openTrio();
    const reference = await blockingSteps(trio.group, sampling);
    const counts = trio.group.stepCounts();
    // Blocking steps resample where the nucleus outgrew the prefilter and never run again.
    assert.equal(counts.rerun, 0);
    const orders = ["concurrent", "launch first", "wait first"] as const;
    for (const [order, deviceFeed] of orders.flatMap((o) => [[o, false], [o, true]] as const)) {
      // deviceFeed: fed tokens taken on the device, as on a GPU (a CPU takes them from the host
      // rows of the step before, settled at the launch).
      trio.group.configureGraphs({ cudaGraphs: false, maxBatch: 3, maxSeqLen: 64, deviceFeed });
      const before = trio.group.stepCounts();
      const pipelined = await pipelinedSteps(trio.group, sampling, order);
      const reruns = trio.group.stepCounts().rerun - before.rerun;
      if (name.startsWith("T=50")) {
        // Every step resampled. Fed on the device and launched first, each step after the first
        // was fed a token its step before's wait then corrected, so it ran again; waited first,
        // it was fed the corrected one; concurrent, either.
        assert.equal(counts.resampled, STEPS);
        if (!deviceFeed || order === "wait first") assert.equal(reruns, 0);
        else if (order === "launch first") assert.equal(reruns, STEPS - 1);
        else assert.ok(reruns <= STEPS - 1);
      } else {
        assert.equal(counts.resampled, 0);
        assert.equal(reruns, 0);
      }
      assert.deepEqual(pipelined.ids, reference.ids, `${order}, deviceFeed ${deviceFeed}`);
      for (let step = 0; step < STEPS; step++) {
        assert.deepEqual(
          pipelined.stats[step],
          reference.stats[step],
          `statistics of step ${step}`,
        );
      }
    }
    // The sampled ids are not all the same token (the test would prove little).
    assert.ok(new Set(reference.ids.flat()).size > 3);
  });
}

Deno.test("launch and wait refuse misuse with one-line errors", async () => {
  using trio = await openTrio();
  const { group } = trio;
  const sampling = { temperature: 0, topP: 1, topK: 0, statsK: 4 };
  const layout = await prefill(group);
  const tokens = { tokens: new Int32Array(3) };
  await assert.rejects(group.wait(tokens), /No launched step to wait for/);
  const feed = Int32Array.of(0, 1, 2);
  await assert.rejects(
    group.launch(decodeBatch(layout, [1, 2, 3], 0), SEEDS, sampling, { feed }),
    /feed names rows of the step before, but none was launched/,
  );
  await group.launch(decodeBatch(layout, [1, 2, 3], 0), SEEDS, sampling);
  await assert.rejects(
    group.launch(decodeBatch(layout, [0, 0, 0], 1), SEEDS, sampling, {
      feed: Int32Array.of(0, 3, -1),
    }),
    /feed\[1\] = 3 names no row of the 3-row step before/,
  );
  await assert.rejects(
    group.step(decodeBatch(layout, [1, 2, 3], 0), SEEDS, sampling, tokens),
    /Launched steps are still waiting/,
  );
  await assert.rejects(group.initCache(layout.blocks, 8), /Launched steps are still waiting/);
  await group.launch(decodeBatch(layout, [0, 0, 0], 1), SEEDS, sampling, { feed });
  await assert.rejects(
    group.launch(decodeBatch(layout, [0, 0, 0], 2), SEEDS, sampling, { feed }),
    /Two launched steps are waiting already/,
  );
  await assert.rejects(
    group.wait({ tokens: new Int32Array(3), stats: new Float32Array(3 * statsWidth(4)) }),
    /launched without statistics/,
  );
  await group.wait(tokens);
  await group.wait(tokens);
  await assert.rejects(group.wait(tokens), /No launched step to wait for/);
});

async function openEngineTrio(deviceFeed: boolean): Promise<OpenedEngine> {
  return await openEngine({
    baseModel: dir("base"),
    pairs: [{ positive: dir("pos"), negative: dir("neg"), weight: 1 }],
    maxConcurrent: 8,
    deviceFeed,
    ...FLOAT32,
  });
}

for (const deviceFeed of [false, true]) {
  Deno.test(`a sample that stops while the next step runs keeps only its tokens up to the stop (deviceFeed ${deviceFeed})`, async () => {
    const engine = await openEngineTrio(deviceFeed);
    try {
      const request = { request: 0, promptIds: PROMPTS[0], samples: 6, seed: 5 };
      const options = { temperature: 1, topP: 0.95, maxTokens: 12 };
      const run = async (stopIds: number[]) => {
        const finished = new Map<number, { tokens: number[]; reason: string }>();
        for await (const e of engine.generate([request], { ...options, stopIds })) {
          assert.notEqual(e.kind, "error", JSON.stringify(e));
          if (e.kind === "finished") finished.set(e.sample, { tokens: e.tokens, reason: e.reason });
        }
        return finished;
      };
      const full = await run([]);
      // A stop id that ends some samples early: each sample's first token, which only some
      // samples sample again later.
      const stopId = full.get(0)!.tokens[2];
      const discardedBefore = engine.decoder.counters.discardedTokens;
      const stopped = await run([stopId]);
      let early = 0;
      for (const [sample, { tokens }] of full) {
        const at = tokens.indexOf(stopId);
        const expected = at >= 0 ? tokens.slice(0, at + 1) : tokens;
        assert.deepEqual(stopped.get(sample)!.tokens, expected, `sample ${sample}`);
        assert.equal(stopped.get(sample)!.reason, at >= 0 ? "stop" : "length");
        if (at >= 0 && at < tokens.length - 1) early++;
      }
      assert.ok(early > 0);
      // Each sample that stopped before its limit had one token sampled past its stop, dropped.
      assert.equal(engine.decoder.counters.discardedTokens - discardedBefore, early);
    } finally {
      engine.close();
    }
  });
}
