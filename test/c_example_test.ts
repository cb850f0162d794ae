// ffi/build/rast_example uses only rast.h: the smoke test of the C contract.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readSafetensors } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR, REPO_ROOT } from "./support/paths.ts";
import { ints } from "./support/fixture_cases.ts";

Deno.test("the C example decodes the reference greedy ids through rast.h alone", async () => {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  const ids = (key: string) => ints(ref, key);
  const out = await new Deno.Command(join(REPO_ROOT, "ffi", "build", "rast_example"), {
    args: [join(FIXTURES_DIR, "neg"), "24", ...ids("prompt2.ids").map(String)],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const got = new TextDecoder().decode(out.stdout).trim().split(",").map(Number);
  assert.deepEqual(got, ids("prompt2.neg.greedy"));
});

Deno.test("the C example's RAST steps give the reference RAST greedy ids through rast.h alone", async () => {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  const ids = (key: string) => ints(ref, key);
  const dir = (m: string) => join(FIXTURES_DIR, m);
  const out = await new Deno.Command(join(REPO_ROOT, "ffi", "build", "rast_example"), {
    args: [
      "--rast",
      dir("base"),
      dir("pos"),
      dir("neg"),
      "1.0",
      "24",
      ...ids("prompt0.ids").map(String),
    ],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const got = new TextDecoder().decode(out.stdout).trim().split(",").map(Number);
  assert.deepEqual(got, ids("prompt0.rast_alpha1.0.greedy"));
});

Deno.test("the C example reports a bad folder through the handle's error and exits 1", async () => {
  const out = await new Deno.Command(join(REPO_ROOT, "ffi", "build", "rast_example"), {
    args: ["/no/such/model"],
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.match(new TextDecoder().decode(out.stderr), /rast_model_load failed \(-2\): Model folder/);
});
