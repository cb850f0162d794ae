// Tensor parallelism (ranks as threads joined by Gloo on CPU) against a single rank and against
// transformers' references (test/fixtures), plus a generated model with more heads.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Dtype, Model } from "../engine/model.ts";
import { RastGroup } from "../engine/group.ts";
import { greedyDecode } from "../engine/greedy.ts";
import { writeRandomModel } from "../tui/checkpoints/random_checkpoint.ts";
import { normals } from "../tui/checkpoints/random.ts";
import { readSafetensors, toFloat32, writeSafetensors } from "../tui/checkpoints/safetensors.ts";
import { EngineError } from "../ffi/errors.ts";
import { Status } from "../ffi/symbols.ts";
import { FIXTURES_DIR } from "./support/paths.ts";
import { ints, promptLogits } from "./support/fixture_cases.ts";
import { maxRelError } from "./support/numeric.ts";
import { rastGreedy } from "./support/rast_greedy.ts";
import { initSlots } from "./support/slots.ts";

// Each fixture with the rank counts its heads allow (4 heads / 2 KV: at 4 ranks KV is copied).
const fixtures = [
  { name: "base", ranks: [2, 4], reference: "reference.safetensors", key: "base." },
  { name: "llama3", ranks: [2], reference: "llama3/reference.safetensors", key: "" },
  { name: "qwen3", ranks: [2, 4], reference: "qwen3/reference.safetensors", key: "" },
];

for (const f of fixtures) {
  Deno.test(`${f.name}: logits at ${f.ranks.join(" and ")} ranks match one rank and transformers`, async () => {
    const ref = await readSafetensors(join(FIXTURES_DIR, f.reference));
    const prompts = [0, 1, 2].map((p) => ints(ref, `prompt${p}.ids`));
    using single = await Model.load(join(FIXTURES_DIR, f.name));
    const singleLogits = [];
    for (const ids of prompts) singleLogits.push(await promptLogits(single, ids));
    for (const ranks of f.ranks) {
      using split = await Model.load(join(FIXTURES_DIR, f.name), { tensorParallel: ranks });
      assert.equal(split.info.tensorParallel, ranks);
      for (let p = 0; p < 3; p++) {
        const logits = await promptLogits(split, prompts[p]);
        const vsSingle = maxRelError(logits, singleLogits[p]);
        assert.ok(vsSingle < 1e-5, `${ranks} ranks, prompt ${p}: ${vsSingle} against one rank`);
        const expected = toFloat32(ref.get(`prompt${p}.${f.key}logits`)!);
        const vsReference = maxRelError(logits, expected);
        assert.ok(vsReference < 1e-4, `${ranks} ranks, prompt ${p}: ${vsReference} against HF`);
      }
    }
  });
}

Deno.test("base at 2 and 4 ranks: greedy continuations equal transformers' ids", async () => {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  for (const ranks of [2, 4]) {
    using model = await Model.load(join(FIXTURES_DIR, "base"), { tensorParallel: ranks });
    for (let p = 0; p < 3; p++) {
      const expected = ints(ref, `prompt${p}.base.greedy`);
      const got = await greedyDecode(model, ints(ref, `prompt${p}.ids`), {
        steps: expected.length,
      });
      assert.deepEqual(got, expected, `${ranks} ranks, prompt ${p}`);
    }
  }
});

// The RAST group over a split base; the small models either on one rank (the default
// placement) or split like the base.
for (const [baseRanks, smallRanks] of [[2, 1], [4, 1], [2, 2]]) {
  Deno.test(`RAST alpha 1.0 with the base on ${baseRanks} ranks, small models on ${smallRanks}: greedy ids match the reference`, async () => {
    const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
    const dir = (m: string) => join(FIXTURES_DIR, m);
    using base = await Model.load(dir("base"), { tensorParallel: baseRanks });
    using pos = await Model.load(dir("pos"), { tensorParallel: smallRanks });
    using neg = await Model.load(dir("neg"), { tensorParallel: smallRanks });
    using group = new RastGroup(base, [{ positive: pos, negative: neg, weight: 1.0 }]);
    for (let p = 0; p < 3; p++) {
      const ids = ints(ref, `prompt${p}.ids`);
      const expected = ints(ref, `prompt${p}.rast_alpha1.0.greedy`);
      const { tokens: got, step0: logits } = await rastGreedy(group, ids, expected.length);
      const step0 = toFloat32(ref.get(`prompt${p}.rast_alpha1.0.step0_logits`)!);
      const err = maxRelError(logits, step0);
      assert.ok(err < 1e-4, `prompt ${p}: step-0 relative error ${err}`);
      assert.deepEqual(got, expected, `prompt ${p}`);
    }
  });
}

/**
 * A Llama with every bias (q/k/v/o and MLP; o and down are added once across ranks), 8 heads /
 * 4 KV heads and a vocab of 501 (the last rank's vocab slice is short), float32 on disk.
 */
async function writeBiasedLlama(dir: string): Promise<void> {
  const shape = {
    arch: "llama" as const,
    vocab: 501,
    hidden: 128,
    intermediate: 256,
    layers: 2,
    heads: 8,
    kvHeads: 4,
    dtype: "F32" as const,
  };
  await writeRandomModel(dir, shape, "tensor-parallel");
  const weights = join(dir, "model.safetensors");
  const tensors = Object.fromEntries(await readSafetensors(weights));
  const headDim = shape.hidden / shape.heads;
  for (let l = 0; l < shape.layers; l++) {
    const p = `model.layers.${l}`;
    const biases: [string, number][] = [
      [`${p}.self_attn.q_proj.bias`, shape.heads * headDim],
      [`${p}.self_attn.k_proj.bias`, shape.kvHeads * headDim],
      [`${p}.self_attn.v_proj.bias`, shape.kvHeads * headDim],
      [`${p}.self_attn.o_proj.bias`, shape.hidden],
      [`${p}.mlp.gate_proj.bias`, shape.intermediate],
      [`${p}.mlp.up_proj.bias`, shape.intermediate],
      [`${p}.mlp.down_proj.bias`, shape.hidden],
    ];
    for (const [name, n] of biases) {
      tensors[name] = { dtype: "F32", shape: [n], data: normals(n, 0.5, name) };
    }
  }
  await writeSafetensors(weights, tensors, { format: "pt" });
  const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  await Deno.writeTextFile(
    join(dir, "config.json"),
    JSON.stringify({ ...config, attention_bias: true, mlp_bias: true }),
  );
}

/** A ragged batch of two prompts, then three decode steps of both: every logit, in order. */
async function raggedRun(model: Model): Promise<Float32Array> {
  const layout = await initSlots(model, 3, 16);
  const first = [3, 141, 59, 26, 500, 35, 89], second = [97, 93, 2, 384];
  const rows: Float32Array[] = [
    await model.forward({
      tokens: Int32Array.from([...first, ...second]),
      seqLens: Int32Array.of(first.length, second.length),
      ...layout.tables([2, 0]),
      startPos: Int32Array.of(0, 0),
    }, "all"),
  ];
  for (let step = 0; step < 3; step++) {
    rows.push(
      await model.forward({
        tokens: Int32Array.of(7 + step, 400 - step),
        seqLens: Int32Array.of(1, 1),
        ...layout.tables([2, 0]),
        startPos: Int32Array.of(first.length + step, second.length + step),
      }, "last"),
    );
  }
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

Deno.test("generated Llama with biases, 8 heads / 4 KV: 2, 4 and 8 ranks equal one rank", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rast-tp-" });
  try {
    await writeBiasedLlama(dir);
    const runs = async (dtype: Dtype, ranks: number) => {
      using model = await Model.load(dir, { dtype, tensorParallel: ranks });
      return await raggedRun(model);
    };
    const single = await runs("float32", 1);
    for (const ranks of [2, 4, 8]) {
      const err = maxRelError(await runs("float32", ranks), single);
      assert.ok(err < 1e-5, `${ranks} ranks: relative error ${err}`);
    }
    // bfloat16: partial sums travel in float32, so the split rounds no worse than one rank.
    const singleBf16 = await runs("bfloat16", 1);
    const err = maxRelError(await runs("bfloat16", 2), singleBf16);
    assert.ok(err < 2e-2, `bfloat16, 2 ranks: relative error ${err}`);
    assert.ok(maxRelError(singleBf16, single) < 5e-2, "bfloat16 stays near float32");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a split the heads do not allow is refused in one line naming the sizes that work", async () => {
  const refused = async (dir: string, tensorParallel: number) => {
    const err = await Model.load(dir, { tensorParallel }).then(
      (m) => (m.close(), null),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EngineError, `expected an EngineError, got ${err}`);
    assert.ok(!err.message.includes("\n"), err.message);
    return err;
  };
  const llama = await refused(join(FIXTURES_DIR, "llama3"), 4);
  assert.equal(llama.code, Status.UNSUPPORTED);
  assert.ok(llama.isUserError);
  assert.match(
    llama.message,
    /^Cannot split ".*llama3" across 4 ranks: its 6 attention heads do not divide by 4; pick a tensor-parallel size of 1, 2 or 6$/,
  );
  const base = await refused(join(FIXTURES_DIR, "base"), 3);
  assert.match(base.message, /4 attention heads do not divide by 3; .* size of 1, 2 or 4$/);
  const zero = await refused(join(FIXTURES_DIR, "base"), 0);
  assert.equal(zero.code, Status.INVALID_ARGUMENT);
});
