/** Greedy RAST decoding of one prompt through a RastGroup, for the reference comparisons. */
import type { RastGroup } from "../../engine/group.ts";
import { initSlots } from "./slots.ts";

/**
 * Sets up the group's pool (blocks of `blockSize`) for one sequence, feeds `ids` and takes
 * `steps` greedy tokens. Returns them with the combined logits of the first step ([base vocab],
 * −inf tail included).
 */
export async function rastGreedy(group: RastGroup, ids: number[], steps: number, blockSize = 16) {
  const layout = await initSlots(group, 1, ids.length + steps, blockSize);
  const tokens = new Int32Array(1);
  const step0: Float32Array = new Float32Array(group.baseVocab);
  const seeds = BigUint64Array.of(1n);
  const sampling = { temperature: 0, topP: 1, topK: 0, statsK: 4 };
  await group.step(
    {
      tokens: Int32Array.from(ids),
      seqLens: Int32Array.of(ids.length),
      ...layout.tables([0]),
      startPos: Int32Array.of(0),
    },
    seeds,
    sampling,
    { tokens, logits: step0 },
  );
  const got = [tokens[0]];
  for (let step = 1; step < steps; step++) {
    await group.step(
      {
        tokens: Int32Array.of(got[step - 1]),
        seqLens: Int32Array.of(1),
        ...layout.tables([0]),
        startPos: Int32Array.of(ids.length + step - 1),
      },
      seeds,
      sampling,
      { tokens },
    );
    got.push(tokens[0]);
  }
  return { tokens: got, step0 };
}
