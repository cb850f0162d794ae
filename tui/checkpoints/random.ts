/** Seeded random numbers for generated test and demo weights: the same bytes on every run. */

/** mulberry32: a small, fast, seedable 32-bit generator. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** FNV-1a of a string: per-tensor seeds, so a tensor's values do not depend on build order. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** n draws of N(0, std²), approximated by a sum of four uniforms (exact in float arithmetic). */
export function normals(n: number, std: number, seed: string): Float32Array {
  const next = mulberry32(fnv1a(seed));
  const out = new Float32Array(n);
  const scale = (std * Math.sqrt(3)) / 2 ** 32; // var of the sum of 4 U(0,1) is 1/3
  for (let i = 0; i < n; i++) {
    out[i] = (next() + next() + next() + next() - 2 * 2 ** 32) * scale;
  }
  return out;
}
