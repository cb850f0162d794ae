/**
 * Engine benchmarks: prefill throughput, decode latency, and how much of a step is spent
 * outside the shim (FFI hop + TypeScript), for one model and for a RAST trio.
 * Returns measured numbers; the `bench` command prints them.
 */
import type { Model } from "./model.ts";
import type { RastGroup } from "./group.ts";
import { statsWidth } from "./group.ts";

/** One model: prefill tokens/s, decode ms/step at batch 1, share of a step outside the shim. */
export interface ModelBench {
  prefillTokensPerSecond: number;
  decodeMsPerStep: number;
  /** Of a decode step's wall time, the share not spent inside the shim's forward. */
  outsideShimShare: number;
}

/** One RAST trio configuration at a given batch size. */
export interface TrioBench {
  batch: number;
  msPerStep: number;
  tokensPerSecond: number;
  /** Share of the step spent combining, sampling and computing statistics. */
  combineSampleShare: number;
  /** Share of the step's wall time outside the shim (FFI + TypeScript). */
  outsideShimShare: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ids = (n: number, vocab: number) =>
  Int32Array.from({ length: n }, (_, i) => (i * 7919 + 13) % vocab);

/** Benchmarks one model: a prefill of `promptLength` tokens, then `steps` decode steps. */
export async function benchModel(
  model: Model,
  options: { promptLength: number; steps: number },
): Promise<ModelBench> {
  const { promptLength, steps } = options;
  await model.initCache(1, promptLength + steps + 1);
  const prompt = ids(promptLength, model.vocab);
  const prefill = {
    tokens: prompt,
    seqLens: Int32Array.of(promptLength),
    slots: Int32Array.of(0),
    startPos: Int32Array.of(0),
  };
  await model.forward(prefill, "last"); // warm-up
  const prefillTimes: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await model.forward(prefill, "last");
    prefillTimes.push(performance.now() - t0);
  }
  const logits = new Float32Array(model.vocab);
  const token = Int32Array.of(1), one = Int32Array.of(1), slot = Int32Array.of(0);
  const pos = new Int32Array(1);
  const wall: number[] = [], inside: number[] = [];
  for (let s = 0; s < steps; s++) {
    pos[0] = promptLength + s;
    const t0 = performance.now();
    await model.forward(
      { tokens: token, seqLens: one, slots: slot, startPos: pos },
      "last",
      logits,
    );
    wall.push(performance.now() - t0);
    inside.push(model.lastForwardMs());
  }
  const wallTotal = wall.reduce((a, b) => a + b, 0);
  const insideTotal = inside.reduce((a, b) => a + b, 0);
  return {
    prefillTokensPerSecond: promptLength / (median(prefillTimes) / 1000),
    decodeMsPerStep: median(wall),
    outsideShimShare: (wallTotal - insideTotal) / wallTotal,
  };
}

/** Benchmarks RAST decode steps of `batch` sequences through the group, as the decoder runs them. */
export async function benchTrio(
  group: RastGroup,
  options: { batch: number; promptLength: number; steps: number },
): Promise<TrioBench> {
  const { batch, promptLength, steps } = options;
  await group.initCache(batch, promptLength + steps + 2);
  const n = batch;
  const statsK = 8;
  const sampling = { temperature: 1, topP: 0.95, topK: 0, statsK };
  const seeds = BigUint64Array.from({ length: n }, (_, i) => BigInt(i + 1));
  const out = { tokens: new Int32Array(n), stats: new Float32Array(n * statsWidth(statsK)) };
  // Prefill every slot with the same prompt in one ragged call.
  const prompt = ids(promptLength, group.sharedVocab);
  await group.step(
    {
      tokens: Int32Array.from({ length: n * promptLength }, (_, i) => prompt[i % promptLength]),
      seqLens: new Int32Array(n).fill(promptLength),
      slots: Int32Array.from({ length: n }, (_, i) => i),
      startPos: new Int32Array(n),
    },
    seeds,
    sampling,
    out,
  );
  const wall: number[] = [], forward: number[] = [], sample: number[] = [];
  const slots = Int32Array.from({ length: n }, (_, i) => i);
  const seqLens = new Int32Array(n).fill(1);
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    // What the decoder does per step in TypeScript: build the batch from the last tokens.
    const tokens = Int32Array.from(out.tokens);
    const startPos = new Int32Array(n).fill(promptLength + s);
    await group.step({ tokens, seqLens, slots, startPos }, seeds, sampling, out);
    wall.push(performance.now() - t0);
    const t = group.lastTiming();
    forward.push(t.forwardMs);
    sample.push(t.sampleMs);
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const wallTotal = sum(wall);
  return {
    batch,
    msPerStep: median(wall),
    tokensPerSecond: n / (median(wall) / 1000),
    combineSampleShare: sum(sample) / wallTotal,
    outsideShimShare: (wallTotal - sum(forward) - sum(sample)) / wallTotal,
  };
}
