// The RAST combination and greedy decoding against transformers' reference (test/fixtures).
import assert from "node:assert/strict";
import { join } from "node:path";
import { Model } from "../engine/model.ts";
import { RastGroup } from "../engine/group.ts";
import { readSafetensors, toFloat32 } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR } from "./support/paths.ts";
import { FLOAT32 } from "./support/fixture_cases.ts";
import { maxRelError } from "./support/numeric.ts";
import { rastGreedy } from "./support/rast_greedy.ts";
import { BLOCK_SIZES } from "./support/slots.ts";

const dir = (m: string) => join(FIXTURES_DIR, m);

for (const alpha of [1.0, 0.5]) {
  Deno.test(`alpha ${alpha}: step-0 combined logits and greedy ids match the reference at block sizes ${BLOCK_SIZES}`, async () => {
    const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
    using base = await Model.load(dir("base"), FLOAT32);
    using pos = await Model.load(dir("pos"), FLOAT32);
    using neg = await Model.load(dir("neg"), FLOAT32);
    using group = new RastGroup(base, [{ positive: pos, negative: neg, weight: alpha }]);
    assert.equal(group.sharedVocab, 1152);
    assert.equal(group.baseVocab, 1280);
    const tag = alpha.toFixed(1);
    for (const blockSize of BLOCK_SIZES) {
      for (let p = 0; p < 3; p++) {
        const ids = Array.from(ref.get(`prompt${p}.ids`)!.data as BigInt64Array, Number);
        const expected = Array.from(
          ref.get(`prompt${p}.rast_alpha${tag}.greedy`)!.data as BigInt64Array,
          Number,
        );
        const { tokens: got, step0: logits } = await rastGreedy(
          group,
          ids,
          expected.length,
          blockSize,
        );
        const step0 = toFloat32(ref.get(`prompt${p}.rast_alpha${tag}.step0_logits`)!);
        const err = maxRelError(logits, step0);
        assert.ok(err < 1e-4, `prompt ${p}: relative error ${err}`);
        for (let i = 1152; i < 1280; i++) assert.equal(logits[i], -Infinity);
        assert.deepEqual(got, expected, `block size ${blockSize}, prompt ${p}`);
      }
    }
  });
}

Deno.test("two pairs sharing their models, weights 0.3 and 0.7, act as one pair at alpha 1", async () => {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  using base = await Model.load(dir("base"), FLOAT32);
  using pos = await Model.load(dir("pos"), FLOAT32);
  using neg = await Model.load(dir("neg"), FLOAT32);
  using group = new RastGroup(base, [
    { positive: pos, negative: neg, weight: 0.3 },
    { positive: pos, negative: neg, weight: 0.7 },
  ]);
  const ids = Array.from(ref.get("prompt0.ids")!.data as BigInt64Array, Number);
  const expected = Array.from(
    ref.get("prompt0.rast_alpha1.0.greedy")!.data as BigInt64Array,
    Number,
  );
  const { tokens, step0 } = await rastGreedy(group, ids, expected.length);
  const err = maxRelError(step0, toFloat32(ref.get("prompt0.rast_alpha1.0.step0_logits")!));
  assert.ok(err < 1e-4, `relative error ${err}`);
  assert.deepEqual(tokens, expected);
});
