// config.json in both forms (transformers-5 rope_parameters, classic rope_theta / rope_scaling)
// gives the reference logits; the llama3 fixture's rope scaling makes a wrong parse visible.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Model } from "../engine/model.ts";
import { readSafetensors, toFloat32 } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR } from "./support/paths.ts";
import { FLOAT32, promptLogits } from "./support/fixture_cases.ts";
import { maxRelError } from "./support/numeric.ts";

async function llamaWithConfig(edit: (config: Record<string, unknown>) => void): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "rast-config-" });
  const src = join(FIXTURES_DIR, "llama3");
  await Deno.symlink(join(src, "model.safetensors"), join(dir, "model.safetensors"));
  const config = JSON.parse(await Deno.readTextFile(join(src, "config.json")));
  edit(config);
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(config));
  return dir;
}

async function logitsOf(dir: string, ids: number[]): Promise<Float32Array> {
  using model = await Model.load(dir, FLOAT32);
  return await promptLogits(model, ids);
}

const ref = await readSafetensors(join(FIXTURES_DIR, "llama3", "reference.safetensors"));
// prompt1 has 13 tokens; long enough for the scaled low frequencies to matter.
const ids = Array.from(ref.get("prompt1.ids")!.data as BigInt64Array, Number);
const expected = toFloat32(ref.get("prompt1.logits")!);

Deno.test("classic keys only (rope_theta, rope_scaling type llama3)", async () => {
  const dir = await llamaWithConfig((c) => delete c.rope_parameters);
  assert.ok(maxRelError(await logitsOf(dir, ids), expected) < 1e-4);
});

Deno.test("transformers-5 rope_parameters only", async () => {
  const dir = await llamaWithConfig((c) => {
    delete c.rope_theta;
    delete c.rope_scaling;
  });
  assert.ok(maxRelError(await logitsOf(dir, ids), expected) < 1e-4);
});

Deno.test("dropping the llama3 scaling changes the logits (the test can see rope)", async () => {
  const dir = await llamaWithConfig((c) => {
    delete c.rope_parameters;
    c.rope_scaling = null;
  });
  assert.ok(maxRelError(await logitsOf(dir, ids), expected) > 1e-3);
});

Deno.test("an unsupported rope type is refused by name", async () => {
  const dir = await llamaWithConfig((c) => {
    delete c.rope_parameters;
    c.rope_scaling = { rope_type: "yarn", factor: 4 };
  });
  await assert.rejects(() => Model.load(dir), /Rope type "yarn" is not supported/);
});
