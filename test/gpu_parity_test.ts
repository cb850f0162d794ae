/**
 * On a CUDA build with a GPU (skipped elsewhere): each fixture in bfloat16 on cuda:0 against the
 * same shim's float32 logits on the CPU and transformers' reference, within bf16 tolerance (1e-2
 * relative to the largest magnitude), and its greedy ids against the reference. The float32
 * parity suites run on the GPU by themselves there (their models load on the default device).
 */
import assert from "node:assert/strict";
import { Model } from "../engine/model.ts";
import { runtimeInfo } from "../engine/model.ts";
import { greedyDecode } from "../engine/greedy.ts";
import { readSafetensors } from "../tui/checkpoints/safetensors.ts";
import { FIXTURE_CASES, floats, ints, promptLogits } from "./support/fixture_cases.ts";
import { maxRelError } from "./support/numeric.ts";

const info = runtimeInfo();
const hasGpu = info.cuda === true && Number(info.devices) > 0;

for (const c of FIXTURE_CASES) {
  Deno.test({
    name: `${c.name}: bfloat16 on cuda:0 matches float32 on the CPU and transformers within 1e-2`,
    ignore: !hasGpu,
    async fn() {
      const ref = await readSafetensors(c.reference);
      using gpu = await Model.load(c.dir, { device: "cuda:0", dtype: "bfloat16" });
      using cpu = await Model.load(c.dir, { device: "cpu", dtype: "float32" });
      for (let p = 0; p < 3; p++) {
        const ids = ints(ref, c.key(p, "ids"));
        const onGpu = await promptLogits(gpu, ids);
        const vsCpu = maxRelError(onGpu, await promptLogits(cpu, ids));
        const vsReference = maxRelError(onGpu, floats(ref, c.key(p, "logits")));
        console.log(
          `${c.name} prompt ${p}: bf16 GPU vs CPU ${vsCpu.toExponential(2)}, ` +
            `vs transformers ${vsReference.toExponential(2)}`,
        );
        assert.ok(vsCpu < 1e-2, `prompt ${p}: ${vsCpu} against the CPU`);
        assert.ok(vsReference < 1e-2, `prompt ${p}: ${vsReference} against transformers`);
      }
    },
  });

  Deno.test({
    name: `${c.name}: bfloat16 greedy ids on cuda:0 agree with transformers'`,
    ignore: !hasGpu,
    async fn() {
      const ref = await readSafetensors(c.reference);
      using gpu = await Model.load(c.dir, { device: "cuda:0", dtype: "bfloat16" });
      for (let p = 0; p < 3; p++) {
        const expected = ints(ref, c.key(p, "greedy"));
        const got = await greedyDecode(gpu, ints(ref, c.key(p, "ids")), {
          steps: expected.length,
        });
        const agree = got.findIndex((id, i) => id !== expected[i]);
        console.log(
          `${c.name} prompt ${p}: ${agree < 0 ? "all" : agree} of ` +
            `${expected.length} greedy ids agree before the first difference`,
        );
        assert.deepEqual(got, expected, `prompt ${p}`);
      }
    },
  });
}
