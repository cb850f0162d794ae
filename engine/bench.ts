/**
 * Engine benchmarks: prefill throughput, decode latency, and how much of a step is spent
 * outside the shim (FFI hop + TypeScript), for one model and for a RAST trio.
 * Returns measured numbers; the `bench` command prints them.
 */
import { countOps, type Model } from "./model.ts";
import type { RastGroup } from "./group.ts";
import { statsWidth } from "./group.ts";
import { SlotLayout } from "./block_pool.ts";
import { defaultBlockSize } from "./kv_pool.ts";

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
  /** Context length of each sequence at the first measured step. */
  contexts: number[];
  /** K/V bytes attention read per step ÷ K/V bytes of the live positions (1: no padding). */
  kv_read_ratio: number;
  /** ATen operators one decode step runs (all models, combine, sampling, statistics). */
  ops_per_step: number;
  /** Host <-> device copies that block, per step. */
  blocking_copies_per_step: number;
  /** Layers of all the models the step runs. */
  layers: number;
  /** Share of the step's wall time outside the shim (FFI + TypeScript). */
  outsideShimShare: number;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ids = (n: number, vocab: number) =>
  Int32Array.from({ length: n }, (_, i) => (i * 7919 + 13) % vocab);

/** Benchmarks one model: a prefill of `promptLength` tokens, then `steps` decode steps. */
export async function benchModel(
  model: Model,
  options: { promptLength: number; steps: number },
): Promise<ModelBench> {
  const { promptLength, steps } = options;
  const layout = new SlotLayout(1, promptLength + steps + 1, defaultBlockSize(model.info.device));
  await model.initCache(layout.blocks, layout.blockSize);
  const tables = layout.tables([0]);
  const prompt = ids(promptLength, model.vocab);
  const prefill = {
    tokens: prompt,
    seqLens: Int32Array.of(promptLength),
    startPos: Int32Array.of(0),
    ...tables,
  };
  await model.forward(prefill, "last"); // warm-up
  const prefillTimes: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await model.forward(prefill, "last");
    prefillTimes.push(performance.now() - t0);
  }
  const logits = new Float32Array(model.vocab);
  const token = Int32Array.of(1), one = Int32Array.of(1);
  const pos = new Int32Array(1);
  const wall: number[] = [], inside: number[] = [];
  for (let s = 0; s < steps; s++) {
    pos[0] = promptLength + s;
    const t0 = performance.now();
    await model.forward(
      { tokens: token, seqLens: one, startPos: pos, ...tables },
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

/**
 * Benchmarks RAST decode steps of `batch` sequences through the group, as the decoder runs them.
 * Sequence i starts from a context of contexts[i % contexts.length] tokens (a ragged batch when
 * they differ). Operators are counted on one extra step, since counting costs time.
 */
export async function benchTrio(
  group: RastGroup,
  options: { batch: number; contexts: number[]; steps: number; layers: number },
): Promise<TrioBench> {
  const { batch, steps } = options;
  const n = batch;
  const contexts = Array.from(
    { length: n },
    (_, i) => options.contexts[i % options.contexts.length],
  );
  const longest = Math.max(...contexts);
  const blockSize = defaultBlockSize(group.base.info.device);
  const layout = new SlotLayout(n, longest + steps + 2, blockSize);
  await group.initCache(layout.blocks, layout.blockSize);
  const tables = layout.tables(Array.from({ length: n }, (_, i) => i));
  const statsK = 8;
  const sampling = { temperature: 1, topP: 0.95, topK: 0, statsK };
  const seeds = BigUint64Array.from({ length: n }, (_, i) => BigInt(i + 1));
  const out = { tokens: new Int32Array(n), stats: new Float32Array(n * statsWidth(statsK)) };
  // Every sequence's context in one prefill.
  const prompt = ids(longest, group.sharedVocab);
  await group.prefill({
    tokens: Int32Array.from(contexts.flatMap((c) => Array.from(prompt.subarray(0, c)))),
    seqLens: Int32Array.from(contexts),
    startPos: new Int32Array(n),
    ...tables,
  });
  const wall: number[] = [], forward: number[] = [], sample: number[] = [];
  const seqLens = new Int32Array(n).fill(1);
  const step = async (s: number) => {
    // What the decoder does per step in TypeScript: build the batch from the last tokens.
    const tokens = Int32Array.from(out.tokens);
    const startPos = Int32Array.from(contexts, (c) => c + s);
    await group.step({ tokens, seqLens, startPos, ...tables }, seeds, sampling, out);
  };
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    await step(s);
    wall.push(performance.now() - t0);
    const t = group.lastStats();
    forward.push(t.forwardMs);
    sample.push(t.sampleMs);
  }
  countOps(true);
  try {
    await step(steps);
  } finally {
    countOps(false);
  }
  const cost = group.lastStats().models;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const wallTotal = sum(wall);
  return {
    batch,
    msPerStep: median(wall),
    tokensPerSecond: n / (median(wall) / 1000),
    combineSampleShare: sum(sample) / wallTotal,
    outsideShimShare: (wallTotal - sum(forward) - sum(sample)) / wallTotal,
    contexts: [...new Set(contexts)],
    kv_read_ratio: cost.kvReadBytes / cost.kvLiveBytes,
    ops_per_step: cost.ops,
    blocking_copies_per_step: cost.blockingCopies,
    layers: options.layers,
  };
}
