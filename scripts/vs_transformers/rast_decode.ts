/**
 * The rast half of scripts/vs_transformers/compare.py: greedy decode through the engine (the
 * scheduler and decoder a run uses), timed per step. Prints one JSON object on stdout:
 * {"base": {"1": case}, "trio": {"1": case, "8": case}} with case = {"ids": [[...] per sample],
 * "msPerStep": median step time after the first}.
 *
 *   deno run -A scripts/vs_transformers/rast_decode.ts BASE POS NEG PROMPT_JSON STEPS
 */
import { openEngine } from "../../engine/mod.ts";

const [base, positive, negative, promptJson, stepsArg] = Deno.args;
const prompt: number[] = JSON.parse(promptJson);
const steps = Number(stepsArg);

interface Case {
  ids: number[][];
  msPerStep: number;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function decode(withPair: boolean, batch: number): Promise<Case> {
  const engine = await openEngine({
    baseModel: base,
    pairs: withPair ? [{ positive, negative, weight: 1 }] : [],
    dtype: "float32",
    maxConcurrent: batch,
  });
  try {
    const ids = Array.from({ length: batch }, () => [] as number[]);
    const stamps: number[] = [];
    const options = { temperature: 0, topP: 1, maxTokens: steps, stats: false };
    const request = { request: 0, promptIds: prompt, samples: batch, seed: 0 };
    for await (const e of engine.generate([request], options)) {
      if (e.kind === "error") throw new Error(e.message);
      if (e.kind !== "token") continue;
      ids[e.sample].push(e.id);
      // A step ends when its last sample's token arrives.
      if (e.sample === batch - 1) stamps.push(performance.now());
    }
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]);
    return { ids, msPerStep: median(gaps.slice(1)) }; // the first gap may hold prefill work
  } finally {
    engine.close();
  }
}

const result = {
  base: { "1": await decode(false, 1) },
  trio: { "1": await decode(true, 1), "8": await decode(true, 8) },
};
console.log(JSON.stringify(result));
