import assert from "node:assert/strict";
import { join } from "node:path";
import {
  defaultDemoCacheDir,
  DEMO_VERSION,
  type DemoTrio,
  ensureDemoTrio,
} from "../tui/checkpoints/demo_models.ts";
import {
  readSafetensors,
  readSafetensorsHeader,
  toFloat32,
} from "../tui/checkpoints/safetensors.ts";
import { checkVocabCompatible, Tokenizer } from "../engine/tokenizer.ts";
import { REPO_ROOT } from "./support/paths.ts";

const FILES = [
  "config.json",
  "generation_config.json",
  "model.safetensors",
  "tokenizer.json",
  "tokenizer_config.json",
];

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function hashes(trio: DemoTrio): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [role, dir] of Object.entries(trio)) {
    for (const file of FILES) out[`${role}/${file}`] = await sha256(join(dir, file));
  }
  return out;
}

const cacheA = await Deno.makeTempDir({ prefix: "rast-demo-a-" });
const cacheB = await Deno.makeTempDir({ prefix: "rast-demo-b-" });
let builds = 0;
const trio = await ensureDemoTrio(cacheA, { onBuild: () => builds++ });

Deno.test("two builds give identical bytes; a built trio is reused", async () => {
  const other = await ensureDemoTrio(cacheB);
  assert.deepEqual(await hashes(other), await hashes(trio));
  const again = await ensureDemoTrio(cacheA, { onBuild: () => builds++ });
  assert.deepEqual(again, trio);
  assert.equal(builds, 1, "the second call in the same folder does not rebuild");
  const leftovers = [...Deno.readDirSync(cacheA)].map((e) => e.name);
  assert.deepEqual(leftovers, [`trio-v${DEMO_VERSION}`], "no temporary build folders remain");
});

Deno.test("a trio with another version stamp is rebuilt", async () => {
  const stamp = join(cacheB, `trio-v${DEMO_VERSION}`, "STAMP.json");
  const good = await Deno.readTextFile(stamp);
  await Deno.writeTextFile(stamp, '{"version":0}\n');
  let rebuilt = false;
  await ensureDemoTrio(cacheB, { onBuild: () => rebuilt = true });
  assert.ok(rebuilt);
  assert.equal(await Deno.readTextFile(stamp), good);
});

Deno.test("configs describe small Qwen2 models with Qwen's vocabulary", async () => {
  const config = async (dir: string) =>
    JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  const [base, pos, neg] = await Promise.all([
    config(trio.base),
    config(trio.pos),
    config(trio.neg),
  ]);
  for (const c of [base, pos, neg]) {
    assert.equal(c.model_type, "qwen2");
    assert.deepEqual(c.architectures, ["Qwen2ForCausalLM"]);
    assert.equal(c.hidden_size, 64);
    assert.equal(c.num_hidden_layers, 2);
    assert.equal(c.num_attention_heads, 4);
    assert.equal(c.num_key_value_heads, 2);
    assert.equal(c.hidden_size / c.num_attention_heads, 16);
    assert.equal(c.torch_dtype, "bfloat16");
  }
  assert.equal(base.vocab_size, 152064);
  assert.equal(base.tie_word_embeddings, false);
  assert.equal(pos.vocab_size, 151936);
  assert.equal(pos.tie_word_embeddings, true);
  assert.deepEqual(pos, neg);
});

Deno.test("weights have the shapes HF Qwen2 expects, in bf16", async () => {
  const base = await readSafetensorsHeader(join(trio.base, "model.safetensors"));
  const small = await readSafetensorsHeader(join(trio.neg, "model.safetensors"));
  assert.deepEqual(base.tensors.get("model.embed_tokens.weight")?.shape, [152064, 64]);
  assert.deepEqual(base.tensors.get("lm_head.weight")?.shape, [152064, 64]);
  assert.deepEqual(small.tensors.get("model.embed_tokens.weight")?.shape, [151936, 64]);
  assert.equal(small.tensors.has("lm_head.weight"), false, "tied embeddings: no lm_head");
  const layer = (name: string) => small.tensors.get(`model.layers.1.${name}`)?.shape;
  assert.deepEqual(layer("self_attn.q_proj.weight"), [64, 64]);
  assert.deepEqual(layer("self_attn.q_proj.bias"), [64]);
  assert.deepEqual(layer("self_attn.k_proj.weight"), [32, 64]);
  assert.deepEqual(layer("self_attn.v_proj.bias"), [32]);
  assert.deepEqual(layer("mlp.gate_proj.weight"), [128, 64]);
  assert.deepEqual(layer("mlp.down_proj.weight"), [64, 128]);
  assert.equal(small.tensors.size, 2 * 12 + 2);
  for (const info of [...base.tensors.values(), ...small.tensors.values()]) {
    assert.equal(info.dtype, "BF16");
  }
});

Deno.test("pos is neg plus a small perturbation", async () => {
  const name = "model.layers.0.self_attn.q_proj.weight";
  const pos = toFloat32((await readSafetensors(join(trio.pos, "model.safetensors"))).get(name)!);
  const neg = toFloat32((await readSafetensors(join(trio.neg, "model.safetensors"))).get(name)!);
  let maxDiff = 0;
  let differing = 0;
  for (let i = 0; i < pos.length; i++) {
    const d = Math.abs(pos[i] - neg[i]);
    maxDiff = Math.max(maxDiff, d);
    if (d > 0) differing++;
  }
  assert.ok(differing > pos.length / 2, "most weights moved");
  assert.ok(maxDiff < 0.05, `perturbation stays small (max ${maxDiff})`);
});

Deno.test("each folder's tokenizer loads and matches the models' vocab", async () => {
  const base = (await Tokenizer.fromModelDir(trio.base))!;
  const pos = (await Tokenizer.fromModelDir(trio.pos))!;
  assert.deepEqual(base.encode("1+1=2"), [16, 10, 16, 28, 17]);
  assert.deepEqual([...base.eosIds].sort(), [151643, 151645]);
  const report = checkVocabCompatible(base, pos, { baseVocab: 152064, smallVocab: 151936 });
  assert.equal(report.sharedVocab, 151936);
  assert.equal(report.paddedTail, 128);
});

Deno.test("the demo question set is well formed", async () => {
  const lines = (await Deno.readTextFile(join(REPO_ROOT, "datasets", "demo.jsonl"))).trim()
    .split("\n");
  assert.ok(lines.length >= 10);
  for (const line of lines) {
    const row = JSON.parse(line);
    assert.equal(typeof row.question, "string");
    assert.match(row.answer, /^-?\d+(\.\d+)?$/);
  }
});

Deno.test("the default cache folder honours RAST_CACHE_DIR and XDG_CACHE_HOME", () => {
  const saved = [Deno.env.get("RAST_CACHE_DIR"), Deno.env.get("XDG_CACHE_HOME")];
  try {
    Deno.env.set("RAST_CACHE_DIR", "/x/rast-cache");
    assert.equal(defaultDemoCacheDir(), "/x/rast-cache/demo");
    Deno.env.delete("RAST_CACHE_DIR");
    Deno.env.set("XDG_CACHE_HOME", "/x/xdg");
    assert.equal(defaultDemoCacheDir(), "/x/xdg/rast/demo");
  } finally {
    for (const [key, value] of [["RAST_CACHE_DIR", saved[0]], ["XDG_CACHE_HOME", saved[1]]]) {
      if (value === undefined) Deno.env.delete(key!);
      else Deno.env.set(key!, value);
    }
  }
});

Deno.test("clean up the temporary caches", async () => {
  await Deno.remove(cacheA, { recursive: true });
  await Deno.remove(cacheB, { recursive: true });
});
