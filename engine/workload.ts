/**
 * `rast bench --workload`: replays an evaluation's answer-length distribution through the real
 * scheduler and block pool at a KV budget, with each step costed at the memory-bandwidth floor
 * (weights + KV bytes read ÷ bandwidth), and the same lengths through the fixed-slot scheme the
 * paged cache replaced (one slot of prompt + max tokens per sequence, attention padded to the
 * longest). No model runs: it answers "how many sequences fit, and how long would a run take".
 */
import { BlockPool } from "./block_pool.ts";
import { Scheduler } from "./scheduler.ts";
import { sampleSeed } from "./seeds.ts";

export interface WorkloadOptions {
  questions: number;
  samples: number;
  promptTokens: number;
  maxTokens: number;
  /** Median answer length, and the share of answers that reach maxTokens. */
  medianTokens: number;
  atLimit: number;
  kvBudgetBytes: number;
  bytesPerPosition: number;
  weightBytes: number;
  bandwidth: number;
  blockSize: number;
  maxConcurrent: number;
  seed: number;
}

export interface WorkloadResult {
  scheme: "paged" | "fixed slots";
  meanConcurrency: number;
  peakConcurrency: number;
  steps: number;
  tokens: number;
  preemptions: number;
  tokensPerSecond: number;
  projectedHours: number;
}

/** The inverse normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.357751867269,
    -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293,
    -0.3223964580411365,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Answer lengths: lognormal with the given median, sigma chosen so `atLimit` reach the cap. */
export function answerLengths(o: WorkloadOptions): number[] {
  const sigma = Math.log(o.maxTokens / o.medianTokens) / normalQuantile(1 - o.atLimit);
  const out: number[] = [];
  for (let q = 0; q < o.questions; q++) {
    for (let s = 0; s < o.samples; s++) {
      // A uniform in (0, 1) from the sample's seed, as the engine derives its seeds.
      const bits = sampleSeed(o.seed * 100003 + q, s) & ((1n << 52n) - 1n);
      const u = (Number(bits) + 0.5) / 2 ** 52;
      const length = Math.round(o.medianTokens * Math.exp(sigma * normalQuantile(u)));
      out.push(Math.max(1, Math.min(o.maxTokens, length)));
    }
  }
  return out;
}

const stepSeconds = (o: WorkloadOptions, kvPositionsRead: number) =>
  (o.weightBytes + kvPositionsRead * o.bytesPerPosition) / o.bandwidth;

/** The paged cache: the real scheduler admits and preempts by free blocks. */
export function replayPaged(o: WorkloadOptions, lengths: number[]): WorkloadResult {
  const blocks = Math.floor(o.kvBudgetBytes / (o.bytesPerPosition * o.blockSize));
  const scheduler = new Scheduler(new BlockPool(blocks, o.blockSize), o.maxConcurrent);
  const prompt = new Array<number>(o.promptTokens).fill(0);
  scheduler.enqueue(Array.from({ length: o.questions }, (_, q) => ({
    request: q,
    promptIds: prompt,
    samples: o.samples,
    seed: 0,
  })));
  let seconds = 0, steps = 0, tokens = 0, concurrency = 0, peak = 0;
  while (scheduler.remaining > 0) {
    const plan = scheduler.planPrefill();
    // Prefill reads the weights once per batch, like a step.
    if (plan.items.length > 0) seconds += stepSeconds(o, 0);
    scheduler.startSamples(() => 0n);
    const { batch } = scheduler.prepareStep();
    if (batch.length === 0) continue;
    seconds += stepSeconds(o, batch.reduce((n, s) => n + s.position + 1, 0));
    steps++;
    tokens += batch.length;
    concurrency += batch.length;
    peak = Math.max(peak, batch.length);
    for (const seq of batch) {
      seq.generated.push(0);
      seq.position++;
      if (seq.generated.length >= lengths[seq.request * o.samples + seq.sample]) {
        scheduler.finish(seq);
      }
    }
  }
  return result("paged", steps, tokens, concurrency, peak, scheduler.preemptions, seconds);
}

/** Fixed slots of prompt + max tokens; a batch's attention is padded to its longest sequence. */
export function replayFixedSlots(o: WorkloadOptions, lengths: number[]): WorkloadResult {
  const slots = Math.min(
    o.maxConcurrent,
    Math.floor(o.kvBudgetBytes / ((o.promptTokens + o.maxTokens) * o.bytesPerPosition)),
  );
  let next = 0, seconds = 0, steps = 0, tokens = 0, concurrency = 0, peak = 0;
  const active: { left: number; position: number }[] = [];
  while (next < lengths.length || active.length > 0) {
    while (active.length < slots && next < lengths.length) {
      active.push({ left: lengths[next++], position: o.promptTokens });
    }
    const longest = Math.max(...active.map((a) => a.position + 1));
    seconds += stepSeconds(o, active.length * longest);
    steps++;
    tokens += active.length;
    concurrency += active.length;
    peak = Math.max(peak, active.length);
    for (let i = active.length - 1; i >= 0; i--) {
      active[i].position++;
      if (--active[i].left === 0) active.splice(i, 1);
    }
  }
  return result("fixed slots", steps, tokens, concurrency, peak, 0, seconds);
}

function result(
  scheme: WorkloadResult["scheme"],
  steps: number,
  tokens: number,
  concurrency: number,
  peak: number,
  preemptions: number,
  seconds: number,
): WorkloadResult {
  return {
    scheme,
    meanConcurrency: concurrency / Math.max(1, steps),
    peakConcurrency: peak,
    steps,
    tokens,
    preemptions,
    tokensPerSecond: tokens / seconds,
    projectedHours: seconds / 3600,
  };
}
