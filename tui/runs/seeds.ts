/**
 * Per-row seeds. Row r's requests carry seed `rowSeed(seed, r)` and the engine derives sample i's
 * seed from (row seed, i), so each sample's randomness depends only on (--seed, r, i): a resumed
 * run redoes exactly the samples an uninterrupted one would have produced.
 */

/** How row seeds are derived, written into run.json. */
export const ROW_SEED_RULE =
  "row seed = murmur3 fmix32((seed * 0x9E3779B1) xor (row * 0x85EBCA77 + 0x165667B1)); " +
  "the engine derives sample i's seed from (row seed, i)";

/** The seed of dataset row `row` (absolute index in the data file) for base seed `seed`. */
export function rowSeed(seed: number, row: number): number {
  let h = Math.imul(seed | 0, 0x9e3779b1) ^ (Math.imul(row | 0, 0x85ebca77) + 0x165667b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
