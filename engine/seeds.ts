/** Per-sample seeds: sample i of a request with seed s gets splitmix64(s · 2^32 + i). */

const MASK = (1n << 64n) - 1n;

/** SplitMix64's output function (64-bit). */
export function splitmix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
  return z ^ (z >> 31n);
}

/** The 64-bit seed of sample `sample` of a request seeded `seed`; depends on nothing else. */
export function sampleSeed(seed: number, sample: number): bigint {
  return splitmix64(((BigInt(Math.trunc(seed)) & 0xffffffffn) << 32n) | BigInt(sample >>> 0));
}
