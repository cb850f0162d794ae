// Bad model folders give one clear error naming the problem, and the process keeps running.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Model } from "../engine/model.ts";
import { EngineError } from "../ffi/errors.ts";
import { readSafetensors, writeSafetensors } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR } from "./support/paths.ts";
import { initSlots } from "./support/slots.ts";

async function copyModel(name: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "rast-bad-" });
  for await (const entry of Deno.readDir(join(FIXTURES_DIR, name))) {
    await Deno.copyFile(join(FIXTURES_DIR, name, entry.name), join(dir, entry.name));
  }
  return dir;
}

async function assertLoadFails(dir: string, pattern: RegExp) {
  await assert.rejects(() => Model.load(dir), (err: unknown) => {
    assert.ok(err instanceof EngineError, `expected EngineError, got ${err}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes("\n"), "the message is one line");
    return true;
  });
}

Deno.test("a missing folder is named", async () => {
  await assertLoadFails("/nonexistent/model", /Model folder "\/nonexistent\/model" does not exist/);
});

Deno.test("a missing shard is named", async () => {
  const dir = await copyModel("base");
  await Deno.remove(join(dir, "model-00003-of-00004.safetensors"));
  await assertLoadFails(dir, /Missing shard ".*model-00003-of-00004.safetensors"/);
});

Deno.test("a truncated safetensors file is reported, not read", async () => {
  const dir = await copyModel("pos");
  const path = join(dir, "model.safetensors");
  const size = (await Deno.stat(path)).size;
  await Deno.truncate(path, Math.floor(size / 2));
  await assertLoadFails(dir, /model\.safetensors.*(truncated|past the end)/);
});

Deno.test("a header whose offsets run past the file names the tensor", async () => {
  const dir = await copyModel("neg");
  const path = join(dir, "model.safetensors");
  const bytes = await Deno.readFile(path);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  header["model.norm.weight"].data_offsets = [bytes.length, bytes.length + 128];
  const text = new TextEncoder().encode(JSON.stringify(header).padEnd(n, " "));
  assert.equal(text.length, n, "the edited header fits the old length");
  bytes.set(text, 8);
  await Deno.writeFile(path, bytes);
  await assertLoadFails(dir, /tensor "model\.norm\.weight".*runs past the end of the file/);
});

Deno.test("a tensor of the wrong shape is named with both shapes", async () => {
  const dir = await copyModel("pos");
  const path = join(dir, "model.safetensors");
  const tensors = await readSafetensors(path);
  const norm = tensors.get("model.norm.weight")!;
  tensors.set("model.norm.weight", { ...norm, shape: [2, 32] });
  await writeSafetensors(path, Object.fromEntries(tensors));
  await assertLoadFails(dir, /"model\.norm\.weight".*shape \[2, 32\].*implies \[64\]/);
});

Deno.test("an unknown architecture is refused by name", async () => {
  const dir = await copyModel("pos");
  const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  config.architectures = ["GPT2LMHeadModel"];
  config.model_type = "gpt2";
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
  await assertLoadFails(dir, /Architecture "GPT2LMHeadModel".*not supported/);
});

Deno.test("an unsupported architecture class is refused even with a supported model_type", async () => {
  const dir = await copyModel("pos");
  const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  config.architectures = ["MistralForCausalLM"];
  config.model_type = "qwen2";
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
  await assertLoadFails(dir, /Architecture "MistralForCausalLM".*not supported/);
});

Deno.test("an architecture and a model_type that disagree are refused, naming both", async () => {
  const dir = await copyModel("pos");
  const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  config.architectures = ["Qwen2ForCausalLM"];
  config.model_type = "llama";
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
  await assertLoadFails(
    dir,
    /architecture Qwen2ForCausalLM but model_type "llama"; make them agree/,
  );
});

Deno.test("a config.json that is not JSON is reported", async () => {
  const dir = await copyModel("pos");
  await Deno.writeTextFile(join(dir, "config.json"), "{ this is not json");
  await assertLoadFails(dir, /config\.json" is not valid JSON/);
});

Deno.test("after all those failures the process still loads and runs a good model", async () => {
  using model = await Model.load(join(FIXTURES_DIR, "pos"));
  const layout = await initSlots(model, 1, 8);
  const logits = await model.forward({
    tokens: Int32Array.of(5, 17),
    seqLens: Int32Array.of(2),
    ...layout.tables([0]),
    startPos: Int32Array.of(0),
  }, "last");
  assert.ok(logits.every(Number.isFinite));
});

Deno.test("close is idempotent and a closed model refuses work", async () => {
  const model = await Model.load(join(FIXTURES_DIR, "neg"));
  model.close();
  model.close();
  await assert.rejects(() => model.initCache(1, 8), /closed/);
});

Deno.test("closing a model during a forward pass frees it only after the pass returns", async () => {
  const model = await Model.load(join(FIXTURES_DIR, "base"));
  const layout = await initSlots(model, 1, 64);
  const running = model.forward({
    tokens: Int32Array.from({ length: 48 }, (_, i) => i + 1),
    seqLens: Int32Array.of(48),
    ...layout.tables([0]),
    startPos: Int32Array.of(0),
  }, "all");
  model.close();
  const logits = await running;
  assert.ok(logits.every(Number.isFinite));
  await assert.rejects(() => model.initCache(1, 8), /closed/);
});

Deno.test("a sequence that outgrows the cache is refused with the fix", async () => {
  using model = await Model.load(join(FIXTURES_DIR, "neg"));
  const layout = await initSlots(model, 1, 4, 4);
  await assert.rejects(
    () =>
      model.forward({
        tokens: Int32Array.of(1, 2, 3, 4, 5),
        seqLens: Int32Array.of(5),
        ...layout.tables([0]),
        startPos: Int32Array.of(0),
      }, "last"),
    /reaches position 5, which needs 2 blocks of 4; its block table row holds 1/,
  );
});
