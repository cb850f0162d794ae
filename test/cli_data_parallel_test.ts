/**
 * `rast run --data-parallel-size 2` on CPU: two worker processes on the real engine and the tiny
 * trio (--deterministic, T = 1) write the files one process writes; with the fake engine,
 * SIGTERM to the parent ends every worker within a second (no shard lock is held after it) and a
 * failing worker makes the parent exit non-zero.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES_DIR } from "./support/paths.ts";
import { FAKE_ENGINE, makeDataDir, rastCommand, SHIM } from "./support/cli_support.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-dp-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));
const FOLDER = join("gsm8k", "base_neg_alpha_1.0_temp_1.0");
const model = (name: string) => join(FIXTURES_DIR, name);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function runArgs(data: string, out: string, extra: string[]): string[] {
  return [
    ...["run", "--batch", "--deterministic", "--dataset", "gsm8k", "--data-dir", data],
    ...["--base-model", model("base"), "--positive-model", model("pos")],
    ...["--negative-model", model("neg"), "--dtype", "float32", "--temperature", "1"],
    ...["--num-runs", "2", "--device", "cpu", "--output-dir", out, ...extra],
  ];
}

Deno.test({
  name: "--data-parallel-size 2 on CPU writes the files of one process",
  ignore: !existsSync(SHIM),
  fn: async () => {
    const data = makeDataDir(TMP, 3);
    const extra = ["--max-tokens", "16"];
    const one = join(TMP, "one");
    const two = join(TMP, "two");
    const [single, parallel] = await Promise.all([
      rastCommand(runArgs(data, one, extra)).output(),
      rastCommand(runArgs(data, two, [...extra, "--data-parallel-size", "2"])).output(),
    ]);
    assert.equal(single.code, 0, decode(single.stderr));
    assert.equal(parallel.code, 0, decode(parallel.stderr));
    for (const file of ["prediction-0.jsonl", "prediction-1.jsonl", "verdicts.jsonl"]) {
      assert.equal(
        Deno.readTextFileSync(join(two, FOLDER, file)),
        Deno.readTextFileSync(join(one, FOLDER, file)),
        file,
      );
    }
    const metrics = (root: string) =>
      JSON.parse(Deno.readTextFileSync(join(root, FOLDER, "metrics.json")));
    assert.deepEqual(metrics(two), metrics(one));
    // The parent printed the table as one process does, and its line counts both replicas.
    assert.match(decode(parallel.stdout), /mean accuracy/);
    assert.match(decode(parallel.stderr), /rast: 2 replicas · 6\/6 samples/);
  },
});

Deno.test("SIGTERM to the parent ends every worker within a second; a failing worker fails the run", async () => {
  const data = makeDataDir(TMP, 4);
  const out = join(TMP, "fake");
  const args = runArgs(data, out, ["--max-tokens", "200", "--data-parallel-size", "2"]);
  const child = rastCommand(args, {
    RAST_ENGINE_MODULE: FAKE_ENGINE,
    RAST_FAKE_TOKEN_DELAY_MS: "50",
  }).spawn();
  const dir = join(out, FOLDER);
  const held = () =>
    existsSync(dir)
      ? [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("lock.shard-")).map((e) =>
        join(dir, e.name)
      ).filter(lockTaken)
      : [];
  for (const deadline = Date.now() + 30_000; held().length < 2;) {
    assert.ok(Date.now() < deadline, "both workers took a shard within 30 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  const sent = performance.now();
  child.kill("SIGTERM");
  const { code } = await child.status;
  await child.output();
  assert.ok(performance.now() - sent < 2000, "the parent ended soon after SIGTERM");
  assert.equal(code, 143);
  assert.deepEqual(held(), [], "no worker holds a shard after the parent ended");

  // Workers whose engine cannot load fail; the parent says so and exits 1.
  const failed = await rastCommand(args, { RAST_ENGINE_MODULE: "/nonexistent/engine.ts" })
    .output();
  assert.equal(failed.code, 1, decode(failed.stderr));
  assert.match(decode(failed.stderr), /replica \d exited with code 1/);
});

/** Whether a process holds the flock on `path`, as util-linux's flock(1) finds it. */
function lockTaken(path: string): boolean {
  const probe = new Deno.Command("flock", {
    args: ["--nonblock", "--exclusive", path, "true"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).outputSync();
  return !probe.success;
}
