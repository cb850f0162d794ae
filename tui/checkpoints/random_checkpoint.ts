/**
 * Writes a random-weight Hugging Face model folder of any supported shape (Qwen2, Llama,
 * Qwen3): for benchmarks of realistic sizes and for tests that need shapes the fixtures lack.
 * Deterministic for a given shape and seed.
 */
import { join } from "node:path";
import { float32ToBf16, type Tensor, writeSafetensors } from "./safetensors.ts";
import { normals } from "./random.ts";

/** The shape of a generated model. */
export interface RandomModelShape {
  arch: "qwen2" | "llama" | "qwen3";
  vocab: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim?: number;
  tied?: boolean;
  /** On-disk dtype (default BF16, as published checkpoints). */
  dtype?: "BF16" | "F32";
  /** The output matrix's (lm_head, or the tied embedding) std as a multiple of the others'
   * (default 1). Benchmarks use 8: next-token distributions then peak as a trained model's do,
   * where near-uniform ones would send every top-p step down the whole-vocab sort. */
  outputScale?: number;
}

const ARCH = {
  qwen2: { name: "Qwen2ForCausalLM", bias: true, qkNorm: false },
  llama: { name: "LlamaForCausalLM", bias: false, qkNorm: false },
  qwen3: { name: "Qwen3ForCausalLM", bias: false, qkNorm: true },
} as const;

/** Parameter count of a shape (what `rast info` reports for it). */
export function parameterCount(s: RandomModelShape): number {
  const d = s.headDim ?? s.hidden / s.heads;
  const arch = ARCH[s.arch];
  const attn = s.hidden * d * (2 * s.heads + 2 * s.kvHeads) +
    (arch.bias ? d * (s.heads + 2 * s.kvHeads) : 0) + (arch.qkNorm ? 2 * d : 0);
  const layer = attn + 3 * s.hidden * s.intermediate + 2 * s.hidden;
  return s.vocab * s.hidden * (s.tied ? 1 : 2) + s.layers * layer + s.hidden;
}

/** Writes config.json and model.safetensors for `shape` into `dir` (created if missing). */
export async function writeRandomModel(dir: string, shape: RandomModelShape, seed = "rast") {
  const s = { ...shape, headDim: shape.headDim ?? shape.hidden / shape.heads };
  const arch = ARCH[s.arch];
  const std = 1 / Math.sqrt(s.hidden);
  const tensors: Record<string, Tensor> = {};
  const add = (name: string, dims: number[], values?: Float32Array, scale = 1) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = values ?? normals(n, std * scale, `${seed}/${name}`);
    tensors[name] = s.dtype === "F32"
      ? { dtype: "F32", shape: dims, data }
      : { dtype: "BF16", shape: dims, data: float32ToBf16(data) };
  };
  const ones = (n: number) => new Float32Array(n).fill(1);
  const output = s.outputScale ?? 1;
  add("model.embed_tokens.weight", [s.vocab, s.hidden], undefined, s.tied ? output : 1);
  for (let l = 0; l < s.layers; l++) {
    const p = `model.layers.${l}`;
    add(`${p}.input_layernorm.weight`, [s.hidden], ones(s.hidden));
    add(`${p}.post_attention_layernorm.weight`, [s.hidden], ones(s.hidden));
    for (const [proj, heads] of [["q", s.heads], ["k", s.kvHeads], ["v", s.kvHeads]] as const) {
      add(`${p}.self_attn.${proj}_proj.weight`, [heads * s.headDim, s.hidden]);
      if (arch.bias) add(`${p}.self_attn.${proj}_proj.bias`, [heads * s.headDim]);
    }
    add(`${p}.self_attn.o_proj.weight`, [s.hidden, s.heads * s.headDim]);
    if (arch.qkNorm) {
      add(`${p}.self_attn.q_norm.weight`, [s.headDim], ones(s.headDim));
      add(`${p}.self_attn.k_norm.weight`, [s.headDim], ones(s.headDim));
    }
    add(`${p}.mlp.gate_proj.weight`, [s.intermediate, s.hidden]);
    add(`${p}.mlp.up_proj.weight`, [s.intermediate, s.hidden]);
    add(`${p}.mlp.down_proj.weight`, [s.hidden, s.intermediate]);
  }
  add("model.norm.weight", [s.hidden], ones(s.hidden));
  if (!s.tied) add("lm_head.weight", [s.vocab, s.hidden], undefined, output);

  await Deno.mkdir(dir, { recursive: true });
  const config = {
    architectures: [arch.name],
    model_type: s.arch,
    vocab_size: s.vocab,
    hidden_size: s.hidden,
    intermediate_size: s.intermediate,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    head_dim: s.headDim,
    hidden_act: "silu",
    max_position_embeddings: 32768,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    tie_word_embeddings: Boolean(s.tied),
    torch_dtype: s.dtype === "F32" ? "float32" : "bfloat16",
    attention_bias: arch.bias,
  };
  await writeSafetensors(join(dir, "model.safetensors"), tensors, { format: "pt" });
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config, null, 2));
}
