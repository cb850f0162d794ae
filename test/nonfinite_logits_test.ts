/**
 * A checkpoint with NaN weights on the real engine: the shim's step marks the rows whose logits
 * are not finite, each affected sample fails with a message naming the model, nothing is written
 * as if it were valid (no prediction file, no metrics.json) and `rast run` exits 1. Reference:
 * the tiny positive fixture with its final norm weight overwritten by bf16 NaNs.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readSafetensorsHeader } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR, REPO_ROOT } from "./support/paths.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));
const SHIM = join(REPO_ROOT, "ffi", "build", "librast.so");

/** A copy of the tiny positive model whose `model.norm.weight` is all NaN. */
async function poisonedPositive(): Promise<string> {
  const dir = join(TMP, "pos-nan");
  Deno.mkdirSync(dir);
  for (const name of ["config.json", "generation_config.json", "model.safetensors"]) {
    Deno.copyFileSync(join(FIXTURES_DIR, "pos", name), join(dir, name));
  }
  const path = join(dir, "model.safetensors");
  Deno.chmodSync(path, 0o644);
  const header = await readSafetensorsHeader(path);
  const norm = header.tensors.get("model.norm.weight")!;
  assert.equal(norm.dtype, "BF16");
  const [begin, end] = norm.dataOffsets;
  const nan = new Uint8Array(end - begin);
  for (let i = 0; i < nan.length; i += 2) nan.set([0xc0, 0x7f], i); // bf16 0x7fc0: NaN
  const file = Deno.openSync(path, { write: true });
  file.seekSync(header.dataStart + begin, Deno.SeekMode.Start);
  file.writeSync(nan);
  file.close();
  return dir;
}

Deno.test({
  name: "NaN weights in a positive model: its samples fail naming it, nothing is written as valid",
  ignore: !existsSync(SHIM),
  fn: async () => {
    const positive = await poisonedPositive();
    const dataDir = join(TMP, "data");
    Deno.mkdirSync(join(dataDir, "gsm8k"), { recursive: true });
    Deno.writeTextFileSync(
      join(dataDir, "gsm8k", "test.jsonl"),
      ['{"question":"1+1?","answer":"#### 2"}', '{"question":"2+2?","answer":"#### 4"}']
        .join("\n") + "\n",
    );
    const out = join(TMP, "out");
    for (const temperature of ["1.0", "0"]) { // sampling and greedy both
      const child = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "-A",
          join(REPO_ROOT, "main.ts"),
          "run",
          ...["--dataset", "gsm8k", "--data-dir", dataDir],
          ...["--base-model", join(FIXTURES_DIR, "base"), "--positive-model", positive],
          ...["--negative-model", join(FIXTURES_DIR, "neg"), "--temperature", temperature],
          ...["--num-runs", "2", "--max-tokens", "6", "--dtype", "float32", "--batch"],
          ...["--output-dir", out],
        ],
        env: { NO_COLOR: "1" },
        stdin: "null",
      }).output();
      const stderr = new TextDecoder().decode(child.stderr);
      assert.equal(child.code, 1, stderr);
      assert.ok(
        stderr.includes(
          `Non-finite logits (NaN or infinity) from the positive model 1 "${positive}"`,
        ),
        stderr,
      );
      assert.match(stderr, /4 samples failed/);
      const temp = temperature === "0" ? "0.0" : "1.0";
      const dir = join(out, "gsm8k", `base_neg_alpha_1.0_temp_${temp}`);
      const names = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.equal(names.filter((n) => n.startsWith("prediction-")).length, 0, names.join());
      assert.ok(!names.includes("metrics.json"));
      const lines = Deno.readTextFileSync(join(dir, "journal.jsonl")).trim().split("\n");
      assert.equal(lines.length, 4);
      for (const line of lines) assert.match(JSON.parse(line).failed, /positive model 1/);
    }
  },
});
