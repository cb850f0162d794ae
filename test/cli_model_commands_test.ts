// `rast logits`, `rast generate` and `rast info` from the outside, against the fixtures.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readSafetensors, toFloat32 } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR, REPO_ROOT } from "./support/paths.ts";
import { ints } from "./support/fixture_cases.ts";
import { maxRelError } from "./support/numeric.ts";

async function rast(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(REPO_ROOT, "main.ts"), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

const fixture = (m: string) => join(FIXTURES_DIR, m);
const PROMPT0 = "5,17,300,42,999,7,1100";

Deno.test("rast logits writes [T, V] float32 logits equal to the reference", async () => {
  const out = join(await Deno.makeTempDir(), "logits.safetensors");
  const run = await rast("logits", "--model", fixture("base"), "--tokens", PROMPT0, "--out", out);
  assert.equal(run.code, 0, run.stderr);
  const got = (await readSafetensors(out)).get("logits")!;
  assert.equal(got.dtype, "F32");
  assert.deepEqual(got.shape, [7, 1280]);
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  assert.ok(maxRelError(toFloat32(got), toFloat32(ref.get("prompt0.base.logits")!)) < 1e-4);
});

Deno.test("rast generate prints the greedy and the RAST greedy continuations", async () => {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  const ids = (key: string) => ints(ref, key);
  const plain = await rast(
    ...["generate", "--model", fixture("base"), "--tokens", PROMPT0],
    ...["--max-new-tokens", "24", "--temperature", "0", "--json"],
  );
  assert.equal(plain.code, 0, plain.stderr);
  assert.deepEqual(JSON.parse(plain.stdout), { tokens: ids("prompt0.base.greedy") });
  const steered = await rast(
    ...["generate", "--base-model", fixture("base"), "--positive-model", fixture("pos")],
    ...["--negative-model", fixture("neg"), "--alpha", "0.5", "--tokens", PROMPT0],
    ...["--max-new-tokens", "24", "--temperature", "0", "--json"],
  );
  assert.equal(steered.code, 0, steered.stderr);
  assert.deepEqual(JSON.parse(steered.stdout), { tokens: ids("prompt0.rast_alpha0.5.greedy") });
  const paired = await rast(
    ...[
      "generate",
      "--model",
      fixture("base"),
      "--pair",
      `${fixture("pos")}:${fixture("neg")}:1.0`,
    ],
    ...["--tokens", PROMPT0, "--max-new-tokens", "24", "--temperature", "0", "--json"],
  );
  assert.equal(paired.code, 0, paired.stderr);
  assert.deepEqual(JSON.parse(paired.stdout), { tokens: ids("prompt0.rast_alpha1.0.greedy") });
});

Deno.test("rast info names the architecture and counts parameters", async () => {
  const run = await rast("info", "--model", fixture("qwen3"), "--json");
  assert.equal(run.code, 0, run.stderr);
  const info = JSON.parse(run.stdout);
  assert.equal(info.architecture, "Qwen3ForCausalLM");
  assert.equal(info.vocab, 1152);
  assert.equal(info.headDim, 32);
  // Tied: embed 1152·64 + 2 layers of (q 128·64, k 64·64, v 64·64, o 64·128, norms, mlp 3·64·128)
  // + final norm; counted from the checkpoint's own tensors.
  const layer = 128 * 64 + 64 * 64 * 2 + 64 * 128 + 32 * 2 + 64 * 2 + 3 * 64 * 128;
  assert.equal(info.parameters, 1152 * 64 + 2 * layer + 64);
});

Deno.test("bad debug-command input exits non-zero with one line", async () => {
  for (
    const args of [
      ["generate", "--model", "/no/such/model", "--tokens", "1,2"],
      ["generate", "--model", fixture("base"), "--tokens", "1,x"],
      ["logits", "--model", fixture("base"), "--tokens", "1"],
      ["generate", "--model", fixture("base"), "--tokens", "1", "--temperature", "hot"],
    ]
  ) {
    const run = await rast(...args);
    assert.notEqual(run.code, 0, args.join(" "));
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, /^rast: /);
  }
});

Deno.test("rast generate splits the base (and optionally the small models) across ranks", async () => {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  const expected = Array.from(
    ref.get("prompt0.rast_alpha1.0.greedy")!.data as BigInt64Array,
    Number,
  );
  for (const smallModels of ["whole", "sharded"]) {
    const run = await rast(
      ...["generate", "--model", fixture("base"), "--positive-model", fixture("pos")],
      ...["--negative-model", fixture("neg"), "--tokens", PROMPT0, "--max-new-tokens", "24"],
      ...["--temperature", "0", "--tensor-parallel-size", "2", "--small-models", smallModels],
      "--json",
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { tokens: expected }, smallModels);
  }
  const bad = await rast(
    "generate",
    "--model",
    fixture("base"),
    "--tokens",
    "1",
    "--small-models",
    "half",
  );
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--small-models "half" is not whole or sharded/);
});
