/**
 * Greedy decoding of one model with its KV cache: the engine-core check that prefill plus
 * decode steps reproduce a reference continuation.
 */
import type { Model } from "./model.ts";
import { SlotLayout } from "./block_pool.ts";
import { defaultBlockSize } from "./kv_pool.ts";

/** Index of the largest value in row `row` of a [rows, n] matrix. */
export function argmax(values: Float32Array, n: number, row = 0): number {
  let best = row * n;
  for (let i = row * n + 1; i < (row + 1) * n; i++) if (values[i] > values[best]) best = i;
  return best - row * n;
}

/**
 * Sets up a pool for one sequence (blocks of `blockSize`), prefills `prompt`, then takes
 * `steps` greedy tokens one decode step at a time.
 */
export async function greedyDecode(
  model: Model,
  prompt: number[],
  options: { steps: number; blockSize?: number },
): Promise<number[]> {
  const layout = new SlotLayout(
    1,
    prompt.length + options.steps,
    options.blockSize ?? defaultBlockSize(model.info.device),
  );
  await model.initCache(layout.blocks, layout.blockSize);
  const tables = layout.tables([0]);
  const logits = new Float32Array(model.vocab);
  await model.forward(
    {
      tokens: Int32Array.from(prompt),
      seqLens: Int32Array.of(prompt.length),
      startPos: Int32Array.of(0),
      ...tables,
    },
    "last",
    logits,
  );
  const out: number[] = [];
  const token = new Int32Array(1);
  const pos = new Int32Array(1);
  const one = Int32Array.of(1);
  for (let step = 0; step < options.steps; step++) {
    token[0] = argmax(logits, model.vocab);
    out.push(token[0]);
    if (step + 1 === options.steps) break;
    pos[0] = prompt.length + step;
    await model.forward({ tokens: token, seqLens: one, startPos: pos, ...tables }, "last", logits);
  }
  return out;
}
