/** `bench --workload` and the MATH500 x 32 workload the device bench projects. */
import {
  answerLengths,
  replayFixedSlots,
  replayPaged,
  type WorkloadOptions,
} from "../../engine/workload.ts";
import { integer, number } from "./options.ts";

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/**
 * The MATH500 x 32 workload: the published recipe's answer lengths, the Qwen2.5-14B + 2 x 1.5B
 * trio on an H200 unless measured figures are given.
 */
export function mathWorkload(
  o: { kvMemory?: string; questions?: string },
  measured: Partial<WorkloadOptions> = {},
): WorkloadOptions {
  return {
    questions: o.questions === undefined ? 500 : integer("--questions", o.questions, 1),
    samples: 32,
    promptTokens: 200,
    maxTokens: 16384,
    medianTokens: 1200,
    atLimit: 0.02,
    kvBudgetBytes:
      (o.kvMemory === undefined ? 89 : number("--kv-memory", o.kvMemory, { above: 0 })) *
      2 ** 30,
    // Qwen2.5-14B (48 layers, 8 KV heads) + 2 x Qwen2.5-1.5B (28 layers, 2 KV heads), bf16.
    bytesPerPosition: 2 * 2 * 128 * (48 * 8 + 2 * 28 * 2),
    weightBytes: 35.7e9,
    bandwidth: 4.26e12,
    blockSize: 256,
    maxConcurrent: 256,
    seed: 0,
    ...measured,
  };
}

/** `bench --workload`: the MATH500 x 32 replay, paged against fixed slots. */
export function workloadCommand(
  o: { kvMemory?: string; questions?: string; json?: boolean },
): void {
  const options = mathWorkload(o);
  const lengths = answerLengths(options);
  const rows = [replayFixedSlots(options, lengths), replayPaged(options, lengths)];
  if (o.json) {
    console.log(JSON.stringify({ workload: options, results: rows }));
    return;
  }
  const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
  console.log(
    `${options.questions} questions x ${options.samples} samples, answers: median ` +
      `${options.medianTokens}, mean ${mean.toFixed(0)} tokens, ` +
      `${
        pct(lengths.filter((l) => l >= options.maxTokens).length / lengths.length)
      } at the limit;` +
      ` KV budget ${
        (options.kvBudgetBytes / 2 ** 30).toFixed(0)
      } GiB, steps at the bandwidth floor`,
  );
  console.log("scheme        mean conc.  peak  preemptions   tokens/s   projected hours");
  for (const r of rows) {
    console.log(
      `${r.scheme.padEnd(12)} ${r.meanConcurrency.toFixed(1).padStart(11)} ` +
        `${String(r.peakConcurrency).padStart(5)} ${String(r.preemptions).padStart(12)} ` +
        `${r.tokensPerSecond.toFixed(0).padStart(10)} ${r.projectedHours.toFixed(2).padStart(17)}`,
    );
  }
}
