/**
 * The committed fixtures are what scripts/make_fixtures.py makes: its --check regenerates them
 * in a temporary folder and compares (weights byte for byte, reference ids exactly, logits to
 * float32 tolerance). Needs a python with torch and transformers: RAST_FIXTURE_PYTHON, else
 * python3 on PATH; skipped with the reason printed when there is none.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { FIXTURES_DIR, REPO_ROOT } from "./support/paths.ts";

const GENERATOR = join(REPO_ROOT, "scripts", "make_fixtures.py");

/** The python to run the generator with, or why there is none. */
async function findPython(): Promise<{ python: string } | { reason: string }> {
  const python = Deno.env.get("RAST_FIXTURE_PYTHON") ?? "python3";
  try {
    const probe = await new Deno.Command(python, {
      args: ["-c", "import torch, transformers, safetensors"],
      stdout: "null",
      stderr: "null",
    }).output();
    if (probe.success) return { python };
    return { reason: `"${python}" cannot import torch, transformers and safetensors` };
  } catch {
    return { reason: `"${python}" is not on PATH` };
  }
}

const found = await findPython();
// `deno test --quiet` hides console output outside tests: the reason goes in the test's name.
const skipped = "reason" in found
  ? ` (skipped: ${found.reason}; set RAST_FIXTURE_PYTHON to a python that has them)`
  : "";

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await filesUnder(path));
    else out.push(relative(FIXTURES_DIR, path));
  }
  return out.sort();
}

Deno.test("the manifest lists exactly the fixture files and the versions that made them", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(join(FIXTURES_DIR, "MANIFEST.json")));
  assert.deepEqual(manifest.files, await filesUnder(FIXTURES_DIR));
  assert.equal(manifest.generator, "scripts/make_fixtures.py");
  for (const key of ["torch", "transformers", "safetensors"]) {
    assert.match(manifest[key], /^\d+\.\d+/, key);
  }
});

Deno.test({
  name: `make_fixtures.py --check: a fresh generation reproduces the committed fixtures${skipped}`,
  ignore: "reason" in found,
  async fn() {
    const { python } = found as { python: string };
    const out = await new Deno.Command(python, {
      args: [GENERATOR, "--check", "--out", FIXTURES_DIR],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text);
    assert.match(text, /matches a fresh generation/);
  },
});
