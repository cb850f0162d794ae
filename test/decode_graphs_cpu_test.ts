/**
 * The parts of the GPU decode work that any build can check: rast_group_configure's settings and
 * errors, graphs leaving CPU steps eager (same tokens, graphBatch 0), random-weight loading
 * (parameter count against config.json's shapes counted by hand, the same draw twice), the device
 * figures the real-shape bench uses, and `bench --shapes` end to end on a tiny shape.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { deviceCopyBandwidth, devicePeakMemory, Model, runtimeInfo } from "../engine/model.ts";
import { RastGroup } from "../engine/group.ts";
import { SlotLayout } from "../engine/block_pool.ts";
import { EngineError } from "../ffi/errors.ts";
import { SHAPES, writeShapeConfigs } from "../engine/bench_device.ts";
import { FIXTURES_DIR, REPO_ROOT } from "./support/paths.ts";

const dir = (m: string) => join(FIXTURES_DIR, m);
const cpu = { device: "cpu", dtype: "float32" } as const;

Deno.test("rast_group_configure refuses bad settings in one line and reports what it holds", async () => {
  using base = await Model.load(dir("base"), cpu);
  using group = new RastGroup(base, []);
  assert.deepEqual(group.graphsInfo().captured, []);
  assert.equal(group.graphsInfo().enabled, false);
  assert.throws(
    () => group.configureGraphs({ cudaGraphs: true, maxBatch: 0, maxSeqLen: 64 }),
    (e: Error) => e instanceof EngineError && /maxBatch must be a whole number/.test(e.message),
  );
  group.configureGraphs({ cudaGraphs: true, maxBatch: 8, maxSeqLen: 64 });
  const graphs = group.graphsInfo();
  assert.equal(graphs.enabled, true);
  assert.equal(graphs.maxBatch, 8);
  assert.equal(graphs.maxSeqLen, 64);
  // A build without CUDA says so; a CUDA build with a CPU model simply runs eagerly.
  if (runtimeInfo().cudaGraphs !== true) assert.match(String(graphs.disabled), /no CUDA/);
  else assert.equal(graphs.disabled, null);
});

Deno.test("with graphs asked for, CPU steps run eagerly and sample the same tokens", async () => {
  using base = await Model.load(dir("base"), cpu);
  using positive = await Model.load(dir("pos"), cpu);
  using negative = await Model.load(dir("neg"), cpu);
  const run = async (cudaGraphs: boolean) => {
    using group = new RastGroup(base, [{ positive, negative, weight: 1 }]);
    const n = 4, steps = 6;
    const layout = new SlotLayout(n, 8 + steps, 16);
    await group.initCache(layout.blocks, layout.blockSize);
    group.configureGraphs({ cudaGraphs, maxBatch: n, maxSeqLen: 8 + steps });
    const tables = layout.tables([0, 1, 2, 3]);
    await group.prefill({
      tokens: Int32Array.from({ length: n * 7 }, (_, k) => 3 + (k % 7) * (1 + Math.floor(k / 7))),
      seqLens: new Int32Array(n).fill(7),
      startPos: new Int32Array(n),
      ...tables,
    });
    const seeds = BigUint64Array.from([1n, 2n, 3n, 4n]);
    const out = { tokens: Int32Array.of(5, 6, 7, 8) };
    const tokens: number[][] = [];
    for (let s = 0; s < steps; s++) {
      await group.step(
        {
          tokens: Int32Array.from(out.tokens),
          seqLens: new Int32Array(n).fill(1),
          startPos: new Int32Array(n).fill(7 + s),
          ...tables,
        },
        seeds,
        { temperature: 1, topP: 0.9, topK: 0, statsK: 4 },
        out,
      );
      assert.equal(group.lastStats().graphBatch, 0);
      tokens.push([...out.tokens]);
    }
    return tokens;
  };
  assert.deepEqual(await run(true), await run(false));
});

/** Parameters of a Qwen2 config.json, counted from the shapes Hugging Face gives its tensors. */
function qwen2Parameters(c: Record<string, unknown>): number {
  const H = c.hidden_size as number, I = c.intermediate_size as number;
  const L = c.num_hidden_layers as number, V = c.vocab_size as number;
  const D = H / (c.num_attention_heads as number);
  const q = H * H + H, kv = 2 * ((c.num_key_value_heads as number) * D * (H + 1));
  const layer = q + kv + H * H + 3 * H * I + 2 * H;
  return V * H * (c.tie_word_embeddings ? 1 : 2) + L * layer + H;
}

Deno.test("randomWeights loads config.json alone: the config's parameter count, the same draw twice", async () => {
  const tmp = Deno.makeTempDirSync();
  try {
    const dirs = writeShapeConfigs(tmp, ["tiny-qwen2"]);
    const options = { ...cpu, randomWeights: true };
    using a = await Model.load(dirs["tiny-qwen2"], options);
    using b = await Model.load(dirs["tiny-qwen2"], options);
    assert.equal(a.info.parameters, qwen2Parameters(SHAPES["tiny-qwen2"]));
    const layout = new SlotLayout(1, 8, 16);
    const logits = [new Float32Array(a.vocab), new Float32Array(b.vocab)];
    for (const [i, m] of [a, b].entries()) {
      await m.initCache(layout.blocks, layout.blockSize);
      await m.forward(
        {
          tokens: Int32Array.of(1, 2, 3),
          seqLens: Int32Array.of(3),
          startPos: Int32Array.of(0),
          ...layout.tables([0]),
        },
        "last",
        logits[i],
      );
    }
    assert.ok(logits[0].every(Number.isFinite));
    assert.deepEqual(logits[0], logits[1]);
    // A real checkpoint folder without weights is still refused without the option.
    await assert.rejects(() => Model.load(dirs["tiny-qwen2"], cpu), EngineError);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("device figures: CPU copy bandwidth is measured, peak memory is CUDA-only", () => {
  assert.ok(deviceCopyBandwidth("cpu", 2 ** 22) > 1e8);
  assert.throws(() => devicePeakMemory("cpu"), (e: Error) => /CUDA devices only/.test(e.message));
  assert.throws(() => deviceCopyBandwidth("gpu7", 1024), /not a device name/);
});

Deno.test("bench --shapes runs the real-shape benchmark end to end on a tiny shape", async () => {
  const cache = Deno.makeTempDirSync();
  try {
    const out = await new Deno.Command(join(REPO_ROOT, "rast"), {
      args: [
        "bench",
        "--shapes",
        "tiny-qwen2,tiny-qwen2",
        "--batches",
        "1,3",
        "--steps",
        "3",
        "--context",
        "16",
        "--json",
      ],
      env: { RAST_CACHE_DIR: cache },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
    assert.deepEqual(
      result.rows.map((r: { models: string; batch: number }) => `${r.models}${r.batch}`),
      ["base1", "trio1", "base3", "trio3"],
    );
    for (const r of result.rows) {
      assert.equal(r.blockingCopiesPerStep, 1);
      assert.equal(r.graphBatch, 0);
      assert.ok(r.msPerStep > 0 && r.floorMs > 0);
      assert.equal(r.peakBytes, null);
    }
    // The trio reads more weights than the base alone: two more models.
    assert.ok(result.weightBytes.trio > result.weightBytes.base);
    assert.ok(result.workload.floorHours > 0);
  } finally {
    Deno.removeSync(cache, { recursive: true });
  }
});
