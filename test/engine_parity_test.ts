// The shim against Hugging Face transformers' fp32 logits and greedy ids (test/fixtures).
import assert from "node:assert/strict";
import { join } from "node:path";
import { Model } from "../engine/model.ts";
import { greedyDecode } from "../engine/greedy.ts";
import { readSafetensors } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR } from "./support/paths.ts";
import {
  FIXTURE_CASES as cases,
  FLOAT32,
  floats,
  ints,
  promptLogits,
} from "./support/fixture_cases.ts";
import { maxRelError } from "./support/numeric.ts";
import { BLOCK_SIZES, initSlots } from "./support/slots.ts";

for (const c of cases) {
  Deno.test(`${c.name}: full-sequence logits match transformers within 1e-4`, async () => {
    const ref = await readSafetensors(c.reference);
    using model = await Model.load(c.dir, FLOAT32);
    for (let p = 0; p < 3; p++) {
      const logits = await promptLogits(model, ints(ref, c.key(p, "ids")));
      const expected = floats(ref, c.key(p, "logits"));
      assert.equal(logits.length, expected.length);
      const err = maxRelError(logits, expected);
      assert.ok(err < 1e-4, `prompt ${p}: relative error ${err}`);
    }
  });

  Deno.test(`${c.name}: greedy continuation equals transformers' ids at block sizes ${BLOCK_SIZES}`, async () => {
    const ref = await readSafetensors(c.reference);
    using model = await Model.load(c.dir, FLOAT32);
    for (const blockSize of BLOCK_SIZES) {
      for (let p = 0; p < 3; p++) {
        const ids = ints(ref, c.key(p, "ids"));
        const expected = ints(ref, c.key(p, "greedy"));
        const got = await greedyDecode(model, ids, { steps: expected.length, blockSize });
        assert.deepEqual(got, expected, `block size ${blockSize}, prompt ${p}`);
      }
    }
  });
}

Deno.test("incremental decoding with the KV cache equals full-sequence logits", async () => {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  using model = await Model.load(join(FIXTURES_DIR, "base"), FLOAT32);
  const layout = await initSlots(model, 2, 32);
  const ids = ints(ref, "prompt1.ids");
  const full = await model.forward({
    tokens: Int32Array.from(ids),
    seqLens: Int32Array.of(ids.length),
    ...layout.tables([1]),
    startPos: Int32Array.of(0),
  }, "all");
  const V = model.vocab;
  // Two tokens of prefill, then one token per step into slot 0.
  const first = await model.forward({
    tokens: Int32Array.from(ids.slice(0, 2)),
    seqLens: Int32Array.of(2),
    ...layout.tables([0]),
    startPos: Int32Array.of(0),
  }, "all");
  assert.ok(maxRelError(first, full.subarray(0, 2 * V)) < 1e-5);
  for (let t = 2; t < ids.length; t++) {
    const step = await model.forward({
      tokens: Int32Array.of(ids[t]),
      seqLens: Int32Array.of(1),
      ...layout.tables([0]),
      startPos: Int32Array.of(t),
    }, "last");
    const err = maxRelError(step, full.subarray(t * V, (t + 1) * V));
    assert.ok(err < 1e-5, `position ${t}: relative error ${err}`);
  }
});

Deno.test("a ragged batch of the three prompts gives each prompt's own logits", async () => {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  using model = await Model.load(join(FIXTURES_DIR, "base"), FLOAT32);
  const layout = await initSlots(model, 4, 32);
  const prompts = [0, 1, 2].map((p) => ints(ref, `prompt${p}.ids`));
  // Slots out of order on purpose: the batch must not assume slot i holds sequence i.
  const logits = await model.forward({
    tokens: Int32Array.from(prompts.flat()),
    seqLens: Int32Array.from(prompts.map((p) => p.length)),
    ...layout.tables([3, 0, 2]),
    startPos: Int32Array.of(0, 0, 0),
  }, "all");
  let row = 0;
  for (let p = 0; p < 3; p++) {
    const n = prompts[p].length * model.vocab;
    const expected = floats(ref, `prompt${p}.base.logits`);
    const err = maxRelError(logits.subarray(row, row + n), expected);
    assert.ok(err < 1e-4, `prompt ${p} in the batch: relative error ${err}`);
    row += n;
  }
});

Deno.test("slots far apart (gathered) and out of order (scattered) give the same logits", async () => {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  using model = await Model.load(join(FIXTURES_DIR, "base"), FLOAT32);
  const layout = await initSlots(model, 16, 32);
  const prompts = [0, 1, 2].map((p) => ints(ref, `prompt${p}.ids`));
  // {0, 9, 15}: a span of 16 for 3 sequences → gathered; {5, 3, 4}: a short run, out of order.
  const decoded: Float32Array[] = [];
  for (const slots of [[0, 15, 9], [5, 3, 4]]) {
    const logits = await model.forward({
      tokens: Int32Array.from(prompts.flat()),
      seqLens: Int32Array.from(prompts.map((p) => p.length)),
      ...layout.tables(slots),
      startPos: Int32Array.of(0, 0, 0),
    }, "all");
    let row = 0;
    for (let p = 0; p < 3; p++) {
      const n = prompts[p].length * model.vocab;
      const err = maxRelError(logits.subarray(row, row + n), floats(ref, `prompt${p}.base.logits`));
      assert.ok(err < 1e-4, `slots ${slots}, prompt ${p}: relative error ${err}`);
      row += n;
    }
    // One decode step for all three continues each from its own cache rows.
    decoded.push(
      await model.forward({
        tokens: Int32Array.of(1, 2, 3),
        seqLens: Int32Array.of(1, 1, 1),
        ...layout.tables(slots),
        startPos: Int32Array.from(prompts.map((p) => p.length)),
      }, "last"),
    );
  }
  // The same step, each sequence alone in slot 0 (the plain path).
  for (let p = 0; p < 3; p++) {
    const alone = await model.forward({
      tokens: Int32Array.from([...prompts[p], p + 1]),
      seqLens: Int32Array.of(prompts[p].length + 1),
      ...layout.tables([0]),
      startPos: Int32Array.of(0),
    }, "last");
    for (const step of decoded) {
      const err = maxRelError(step.subarray(p * model.vocab, (p + 1) * model.vocab), alone);
      assert.ok(err < 1e-5, `decode step of prompt ${p}: relative error ${err}`);
    }
  }
});
