/** The sampling checks' reference: vLLM's top-p distribution, and a chi-square goodness of fit. */
import assert from "node:assert/strict";

/** vLLM's top-p on a logit vector after temperature: the kept tokens' renormalised probabilities. */
export function expectedDistribution(
  z: Float32Array,
  temperature: number,
  topP: number,
): Float64Array {
  const scaled = Array.from(z, (v) => v / temperature);
  const max = scaled.reduce((m, v) => (Number.isFinite(v) && v > m ? v : m), -Infinity);
  const p = scaled.map((v) => (Number.isFinite(v) ? Math.exp(v - max) : 0));
  const total = p.reduce((a, b) => a + b, 0);
  const probs = p.map((v) => v / total);
  const ascending = probs.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]);
  const out = new Float64Array(z.length);
  let cum = 0;
  ascending.forEach(([v, i], rank) => {
    cum += v;
    const drop = cum <= 1 - topP && rank < ascending.length - 1;
    if (!drop) out[i] = v;
  });
  const kept = out.reduce((a, b) => a + b, 0);
  return out.map((v) => v / kept);
}

/** Upper critical value of chi-square(df) at significance 0.001 (Wilson–Hilferty). */
export function chiSquareCritical(df: number): number {
  const z = 3.090232; // standard normal quantile at 0.999
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/** Counts of N draws against the expected probabilities; bins expected below 5 are pooled. */
export function assertChiSquare(counts: Float64Array, expected: Float64Array, N: number): void {
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] === 0) assert.equal(counts[i], 0, `token ${i} is outside the nucleus`);
  }
  let chi = 0, bins = 0, poolE = 0, poolO = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] * N;
    if (e === 0) continue;
    if (e < 5) {
      poolE += e;
      poolO += counts[i];
      continue;
    }
    chi += (counts[i] - e) ** 2 / e;
    bins++;
  }
  if (poolE > 0) {
    chi += (poolO - poolE) ** 2 / poolE;
    bins++;
  }
  assert.ok(bins >= 3, `too few bins (${bins})`);
  const critical = chiSquareCritical(bins - 1);
  assert.ok(
    chi < critical,
    `chi-square ${chi.toFixed(1)} >= ${critical.toFixed(1)} (df ${bins - 1})`,
  );
}
