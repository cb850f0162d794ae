// Top-p sampling at a real vocab (151,936, as Qwen2.5): the nucleus found from the top 1,024
// without sorting the vocab gives vLLM's distribution (chi-square against it).
import { join } from "node:path";
import { openEngine } from "../engine/mod.ts";
import { writeRandomModel } from "../tui/checkpoints/random_checkpoint.ts";
import { assertChiSquare, expectedDistribution } from "./support/chi_square.ts";
import { initSlots } from "./support/slots.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-vocab-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

Deno.test("first-token frequencies at vocab 151936 follow softmax(top-p(z) / T), T=0.25 p=0.95", async () => {
  const dir = join(TMP, "wide");
  await writeRandomModel(dir, {
    arch: "qwen2",
    vocab: 151936,
    hidden: 64,
    intermediate: 128,
    layers: 1,
    heads: 4,
    kvHeads: 2,
    tied: true,
  }, "wide-vocab");
  const engine = await openEngine({
    baseModel: dir,
    pairs: [],
    dtype: "float32",
    maxConcurrent: 128,
  });
  try {
    const prompt = [11, 2024, 77];
    // The step's logits for the prompt (no pairs: the base's own).
    const group = engine.decoder.group;
    const layout = await initSlots(group, 1, prompt.length + 1);
    const z = new Float32Array(group.baseVocab);
    await group.step(
      {
        tokens: Int32Array.from(prompt),
        seqLens: Int32Array.of(prompt.length),
        startPos: Int32Array.of(0),
        ...layout.tables([0]),
      },
      BigUint64Array.of(1n),
      { temperature: 1, topP: 1, topK: 0, statsK: 1 },
      { tokens: new Int32Array(1), logits: z },
    );
    const temperature = 0.25, topP = 0.95, N = 1500;
    const expected = expectedDistribution(z, temperature, topP);
    const counts = new Float64Array(expected.length);
    const requests = [{ request: 0, promptIds: prompt, samples: N, seed: 99 }];
    for await (const e of engine.generate(requests, { temperature, topP, maxTokens: 1 })) {
      if (e.kind === "error") throw new Error(e.message);
      if (e.kind === "finished") counts[e.tokens[0]]++;
    }
    assertChiSquare(counts, expected, N);
  } finally {
    engine.close();
  }
});
