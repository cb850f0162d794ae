/**
 * The device benchmark of real shapes: the published trio's configs (Qwen2.5-14B base,
 * 2 x Qwen2.5-1.5B pair; 7B for a middle size) with random weights drawn by the shim on the
 * device, so no download. Measures the device's copy bandwidth, then for the base alone and the
 * trio at each batch size: prefill tokens/s, decode ms/step, tokens/s, the bandwidth floor of a
 * step (weights + K/V bytes read ÷ bandwidth), the share of it reached and peak memory.
 */
import { deviceCopyBandwidth, devicePeakMemory, type Dtype, Model } from "./model.ts";
import { RastGroup } from "./group.ts";
import { statsWidth } from "./group.ts";
import { SlotLayout } from "./block_pool.ts";
import { defaultBlockSize } from "./kv_pool.ts";
import { median } from "./bench.ts";

/** config.json of each shape (Hugging Face's, trimmed to what a Qwen2 forward reads). */
export const SHAPES: Record<string, Record<string, unknown>> = {
  "Qwen2.5-14B": qwen2(5120, 13824, 48, 40, 8, 152064, false, 1e-5),
  "Qwen2.5-7B": qwen2(3584, 18944, 28, 28, 4, 152064, false, 1e-6),
  "Qwen2.5-1.5B": qwen2(1536, 8960, 28, 12, 2, 151936, true, 1e-6),
  // For a smoke run on CPU: the same architecture, tiny.
  "tiny-qwen2": qwen2(128, 352, 2, 4, 2, 4096, true, 1e-6),
};

function qwen2(
  hidden: number,
  intermediate: number,
  layers: number,
  heads: number,
  kvHeads: number,
  vocab: number,
  tied: boolean,
  eps: number,
): Record<string, unknown> {
  return {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    hidden_size: hidden,
    intermediate_size: intermediate,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    vocab_size: vocab,
    tie_word_embeddings: tied,
    rms_norm_eps: eps,
    rope_theta: 1000000.0,
    max_position_embeddings: 32768,
    hidden_act: "silu",
    torch_dtype: "bfloat16",
    use_sliding_window: false,
  };
}

/** Writes config.json of each named shape under dir/<name>/ (the HF baseline reads the same). */
export function writeShapeConfigs(dir: string, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const folder = `${dir}/${name}`;
    Deno.mkdirSync(folder, { recursive: true });
    Deno.writeTextFileSync(`${folder}/config.json`, JSON.stringify(SHAPES[name], null, 2) + "\n");
    out[name] = folder;
  }
  return out;
}

export interface DeviceBenchOptions {
  device: string;
  dtype: Dtype;
  base: string;
  pair: string;
  batches: number[];
  /** Tokens of context every sequence has when decode is timed. */
  context: number;
  steps: number;
  /** CUDA graphs for decode (false: --enforce-eager). */
  cudaGraphs: boolean;
  /** Folder for the config.json files. */
  dir: string;
}

export interface DeviceBenchRow {
  models: "base" | "trio";
  batch: number;
  prefillTokensPerSecond: number;
  /** Wall time per step over a run of pipelined steps (each launched before the one before it
   * is read, as the decoder runs them). */
  msPerStep: number;
  tokensPerSecond: number;
  /** The step's bandwidth floor: weights + K/V bytes read ÷ copy bandwidth. */
  floorMs: number;
  /** floorMs ÷ msPerStep. */
  floorShare: number;
  /** The CUDA graph bucket the timed steps replayed (0: eager). */
  graphBatch: number;
  blockingCopiesPerStep: number;
  /** Peak device memory held by libtorch while this row ran (null on CPU). */
  peakBytes: number | null;
}

export interface DeviceBenchResult {
  device: string;
  dtype: Dtype;
  bandwidth: number;
  /** Weight bytes a decode step reads, per model set (untied embeddings: only B rows). */
  weightBytes: { base: number; trio: number };
  /** K/V bytes per position of all models of the trio. */
  kvBytesPerPosition: number;
  rows: DeviceBenchRow[];
}

const BYTES: Record<Dtype, number> = { float32: 4, bfloat16: 2, float16: 2 };

/** Bytes of weights a decode step reads: all of them but an untied embedding's unused rows. */
function stepWeightBytes(model: Model): number {
  const i = model.info;
  const embedding = i.tiedEmbeddings ? 0 : i.vocab * i.hidden;
  return (i.parameters - embedding) * BYTES[i.dtype];
}

export async function benchDevice(
  o: DeviceBenchOptions,
  onRow: (row: DeviceBenchRow) => void = () => {},
): Promise<DeviceBenchResult> {
  const cuda = o.device.startsWith("cuda");
  const bandwidth = deviceCopyBandwidth(o.device, cuda ? 2 ** 30 : 2 ** 27);
  const dirs = writeShapeConfigs(o.dir, [...new Set([o.base, o.pair])]);
  const load = { device: o.device, dtype: o.dtype, randomWeights: true };
  using base = await Model.load(dirs[o.base], load);
  using positive = await Model.load(dirs[o.pair], load);
  using negative = await Model.load(dirs[o.pair], load);
  using trio = new RastGroup(base, [{ positive, negative, weight: 1 }]);
  using alone = new RastGroup(base, []);
  const weightBytes = {
    base: stepWeightBytes(base),
    trio: stepWeightBytes(base) + 2 * stepWeightBytes(positive),
  };

  const maxBatch = Math.max(...o.batches);
  const maxSeqLen = o.context + o.steps + 4;
  const layout = new SlotLayout(maxBatch, maxSeqLen, defaultBlockSize(o.device));
  await trio.initCache(layout.blocks, layout.blockSize);
  await alone.initCache(layout.blocks, layout.blockSize); // the base's pool, already set up
  for (const g of [trio, alone]) {
    g.configureGraphs({ cudaGraphs: o.cudaGraphs, maxBatch, maxSeqLen });
  }

  // Every sequence's context, in prefills of a bounded number of tokens.
  const prompt = Int32Array.from({ length: o.context }, (_, i) => (i * 7919 + 13) % 4096);
  const chunk = Math.max(1, Math.floor(8192 / o.context));
  const prefill = async (group: RastGroup, from: number, n: number) => {
    const tables = layout.tables(Array.from({ length: n }, (_, i) => from + i));
    const t0 = performance.now();
    await group.prefill({
      tokens: Int32Array.from({ length: n * o.context }, (_, k) => prompt[k % o.context]),
      seqLens: new Int32Array(n).fill(o.context),
      startPos: new Int32Array(n),
      ...tables,
    });
    return (n * o.context) / ((performance.now() - t0) / 1000);
  };
  const prefillRate = { base: 0, trio: 0 };
  for (let from = 0; from < maxBatch; from += chunk) {
    const rate = await prefill(trio, from, Math.min(chunk, maxBatch - from));
    if (from === 0) prefillRate.trio = rate;
  }
  prefillRate.base = await prefill(alone, 0, Math.min(chunk, maxBatch)); // rewrites the same K/V

  const rows: DeviceBenchRow[] = [];
  const sampling = { temperature: 1, topP: 0.95, topK: 0, statsK: 8 };
  for (const batch of o.batches) {
    for (const [name, group] of [["base", alone], ["trio", trio]] as const) {
      if (cuda) devicePeakMemory(o.device, true);
      const tables = layout.tables(Array.from({ length: batch }, (_, i) => i));
      const seeds = BigUint64Array.from({ length: batch }, (_, i) => BigInt(i + 1));
      const out = {
        tokens: new Int32Array(batch).fill(1),
        stats: new Float32Array(batch * statsWidth(sampling.statsK)),
      };
      const seqLens = new Int32Array(batch).fill(1);
      const at = (s: number) => ({
        tokens: Int32Array.from(out.tokens),
        seqLens,
        startPos: new Int32Array(batch).fill(o.context + s),
        ...tables,
      });
      // Two blocking steps first: the bucket's graph is captured on its first step.
      for (let s = 0; s < 2; s++) await group.step(at(s), seeds, sampling, out);
      // Then as the decoder steps: step s + 1 launched, fed on the device from step s's samples,
      // before step s is read.
      const kv: number[] = [], copies: number[] = [];
      let graphBatch = 0;
      const feed = Int32Array.from({ length: batch }, (_, i) => i);
      const t0 = performance.now();
      await group.launch(at(2), seeds, sampling, { stats: true });
      for (let s = 3; s < o.steps + 3; s++) {
        const launching = s < o.steps + 2
          ? group.launch(at(s), seeds, sampling, { feed, stats: true })
          : Promise.resolve();
        await group.wait(out);
        await launching;
        const cost = group.lastStats();
        kv.push(cost.models.kvReadBytes);
        copies.push(cost.models.blockingCopies);
        graphBatch = cost.graphBatch;
      }
      const ms = (performance.now() - t0) / o.steps;
      const floorMs = ((name === "trio" ? weightBytes.trio : weightBytes.base) + median(kv)) /
        bandwidth * 1000;
      const row: DeviceBenchRow = {
        models: name,
        batch,
        prefillTokensPerSecond: prefillRate[name],
        msPerStep: ms,
        tokensPerSecond: batch / (ms / 1000),
        floorMs,
        floorShare: floorMs / ms,
        graphBatch,
        blockingCopiesPerStep: median(copies),
        peakBytes: cuda ? devicePeakMemory(o.device) : null,
      };
      rows.push(row);
      onRow(row);
    }
  }
  return {
    device: o.device,
    dtype: o.dtype,
    bandwidth,
    weightBytes,
    kvBytesPerPosition: trio.kvBytesPerPosition,
    rows,
  };
}
