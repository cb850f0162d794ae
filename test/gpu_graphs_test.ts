/**
 * On a CUDA build with a GPU (skipped elsewhere): the decode paths that exist only there, each
 * against the eager path it replaces.
 * - CUDA graphs and pipelined steps fed on the device: the fixture trio in bfloat16 decodes the
 *   same tokens, greedy and sampled, with graphs (one per batch bucket) as with --enforce-eager,
 *   and both as eager steps fed from the host; the graphs were really replayed. At T=50 every
 *   nucleus outgrows the sampler's prefilter, so every step is resampled and fed steps run again.
 * - The shim's kernels (residual add + RMSNorm, rope + KV write, SiLU·mul): logits within bf16
 *   tolerance of eager ATen's and the same greedy ids.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Model, runtimeInfo } from "../engine/model.ts";
import { type OpenedEngine, openEngine } from "../engine/mod.ts";
import { greedyDecode } from "../engine/greedy.ts";
import { readSafetensors } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR } from "./support/paths.ts";
import { FIXTURE_CASES, ints, promptLogits } from "./support/fixture_cases.ts";
import { maxRelError } from "./support/numeric.ts";

const info = runtimeInfo();
const hasGpu = info.cuda === true && Number(info.devices) > 0;
const dir = (m: string) => join(FIXTURES_DIR, m);

/** Every sample's tokens, keyed "request/sample", for prompts of the fixture reference. */
async function decodeAll(
  engine: OpenedEngine,
  prompts: number[][],
  sampling: { temperature: number; topP: number },
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const requests = prompts.map((promptIds, request) => ({
    request,
    promptIds,
    samples: 3,
    seed: 11 + request,
  }));
  for await (const e of engine.generate(requests, { ...sampling, maxTokens: 24, stats: true })) {
    if (e.kind === "error") throw new Error(e.message);
    if (e.kind === "finished") out.set(`${e.request}/${e.sample}`, e.tokens);
  }
  return out;
}

const SAMPLINGS = [
  { temperature: 0, topP: 1 },
  { temperature: 1, topP: 0.95 },
  { temperature: 50, topP: 0.99 },
];
for (const sampling of SAMPLINGS) {
  Deno.test({
    name: `CUDA graphs decode the trio's tokens as the eager step does (temperature ` +
      `${sampling.temperature}, top-p ${sampling.topP})`,
    ignore: !hasGpu,
    async fn() {
      const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
      const prompts = [0, 1, 2].map((p) => ints(ref, `prompt${p}.ids`));
      const results = [];
      const settings = [
        { enforceEager: true, deviceFeed: false },
        { enforceEager: true, deviceFeed: true },
        { enforceEager: false, deviceFeed: true },
      ];
      for (const { enforceEager, deviceFeed } of settings) {
        const engine = await openEngine({
          baseModel: dir("base"),
          pairs: [{ positive: dir("pos"), negative: dir("neg"), weight: 1 }],
          dtype: "bfloat16",
          device: "cuda:0",
          enforceEager,
          deviceFeed,
        });
        try {
          results.push(await decodeAll(engine, prompts, sampling));
          const graphs = engine.decoder.group.graphsInfo();
          const steps = engine.decoder.group.stepCounts();
          console.log(
            `enforceEager ${enforceEager} deviceFeed ${deviceFeed}: graphs ` +
              `${JSON.stringify(graphs)} steps ${JSON.stringify(steps)}`,
          );
          if (sampling.temperature === 50) assert.ok(steps.resampled > 0, "nothing resampled");
          if (!enforceEager) {
            assert.equal(graphs.disabled, null);
            // 9 samples, then fewer as they finish: buckets 8 (or 16) and below were replayed.
            assert.ok(graphs.captured.length > 0, "no graph was captured");
          }
        } finally {
          engine.close();
        }
      }
      const [reference, ...others] = results;
      for (const [i, got] of others.entries()) {
        assert.equal(got.size, reference.size);
        for (const [key, tokens] of reference) {
          assert.deepEqual(got.get(key), tokens, `${JSON.stringify(settings[i + 1])} ${key}`);
        }
      }
    },
  });
}

for (const c of FIXTURE_CASES) {
  Deno.test({
    name: `${c.name}: the shim's CUDA kernels match eager ATen in bfloat16`,
    ignore: !hasGpu || info.cudaKernels !== true,
    async fn() {
      const ref = await readSafetensors(c.reference);
      using fused = await Model.load(c.dir, { device: "cuda:0", dtype: "bfloat16" });
      using eager = await Model.load(c.dir, {
        device: "cuda:0",
        dtype: "bfloat16",
        fusedKernels: false,
      });
      assert.equal(fused.info.fusedKernels, true);
      assert.equal(eager.info.fusedKernels, false);
      for (let p = 0; p < 3; p++) {
        const ids = ints(ref, c.key(p, "ids"));
        const error = maxRelError(await promptLogits(fused, ids), await promptLogits(eager, ids));
        console.log(`${c.name} prompt ${p}: kernels vs eager ${error.toExponential(2)}`);
        assert.ok(error < 1e-2, `prompt ${p}: ${error}`);
        const steps = 16;
        assert.deepEqual(
          await greedyDecode(fused, ids, { steps }),
          await greedyDecode(eager, ids, { steps }),
          `prompt ${p} greedy ids`,
        );
      }
    },
  });
}
