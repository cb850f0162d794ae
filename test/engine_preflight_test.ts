// openEngine reads tokenizers before any weights: a small model from another vocabulary is
// refused before the loader even opens its (here unreadable) weights file.
import assert from "node:assert/strict";
import { join } from "node:path";
import { openEngine } from "../engine/mod.ts";
import { UserError } from "../engine/errors.ts";
import { DATASETS_DIR } from "./support/paths.ts";

const MODELS = join(DATASETS_DIR, "miniarith", "models");

/**
 * A copy of the miniarith negative model whose weights file is garbage; with `swap` its
 * tokenizer maps "+" and "," to each other's ids.
 */
async function brokenSmall(swap: boolean): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "rast-preflight-" });
  for (const name of ["config.json", "generation_config.json", "tokenizer_config.json"]) {
    await Deno.copyFile(join(MODELS, "negative", name), join(dir, name));
  }
  const tokenizer = JSON.parse(await Deno.readTextFile(join(MODELS, "negative", "tokenizer.json")));
  const vocab = tokenizer.model.vocab as Record<string, number>;
  if (swap) [vocab["+"], vocab[","]] = [vocab[","], vocab["+"]];
  await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(tokenizer));
  await Deno.writeTextFile(join(dir, "model.safetensors"), "not a safetensors file");
  return dir;
}

async function openWith(small: string): Promise<unknown> {
  try {
    const engine = await openEngine({
      baseModel: join(MODELS, "base"),
      pairs: [{ positive: join(MODELS, "positive"), negative: small, weight: 1 }],
      dtype: "float32",
      kvMemoryBytes: 1 << 20,
    });
    engine.close();
    return undefined;
  } catch (err) {
    return err;
  }
}

Deno.test("a mismatched small tokenizer is refused before any weights load", async () => {
  const dir = await brokenSmall(true);
  try {
    const err = await openWith(dir);
    assert.ok(err instanceof UserError, `expected UserError, got ${err}`);
    assert.match(err.message, new RegExp(`"${dir}" disagrees with the base's at id 1: ","`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with an agreeing tokenizer the same folder fails at its weights (the check ran first)", async () => {
  const dir = await brokenSmall(false);
  try {
    const err = await openWith(dir);
    assert.ok(err instanceof Error, "the garbage weights are refused");
    assert.doesNotMatch(err.message, /disagrees/);
    assert.match(err.message, /model\.safetensors/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
