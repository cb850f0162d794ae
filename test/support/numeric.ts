/** max |a - b| / max |b|: the fixtures' tolerance measure (relative to the largest magnitude). */
export function maxRelError(actual: Float32Array, expected: Float32Array): number {
  if (actual.length !== expected.length) {
    throw new Error(`length ${actual.length} != ${expected.length}`);
  }
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i], a = actual[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (e !== a) return Infinity; // -inf tails must match exactly
      continue;
    }
    scale = Math.max(scale, Math.abs(e));
    diff = Math.max(diff, Math.abs(a - e));
  }
  return diff / (scale || 1);
}
