/**
 * `rast run --shard i/N` and `rast status`. On the real engine and the tiny trio, sampling at
 * T = 1 with --deterministic: four shards run out of order, two at a time, one killed with
 * SIGKILL mid-sample and rerun, give prediction files byte-identical to an unsharded run's and
 * the same metrics; `status` on the half-done folder counts what its files hold. With the fake
 * engine: status names the process holding a running shard, and mixing shard counts is refused.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES_DIR } from "./support/paths.ts";
import { FAKE_ENGINE, makeDataDir, rastCommand, SHIM } from "./support/cli_support.ts";
import { readInflight } from "../tui/runs/inflight.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-shards-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));
const FOLDER = join("gsm8k", "base_neg_alpha_1.0_temp_1.0");
const model = (name: string) => join(FIXTURES_DIR, name);

function runArgs(data: string, out: string, extra: string[]): string[] {
  return [
    ...["run", "--batch", "--deterministic", "--dataset", "gsm8k", "--data-dir", data],
    ...["--base-model", model("base"), "--positive-model", model("pos")],
    ...["--negative-model", model("neg"), "--dtype", "float32", "--temperature", "1"],
    ...["--num-runs", "2", "--output-dir", out, ...extra],
  ];
}

/** Runs to the end; the real engine unless `fake`. */
async function run(args: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await rastCommand(args, { RAST_CHECKPOINT_MS: "100", ...env }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  assert.equal(result.code, 0, stderr);
  return stderr;
}

async function status(dir: string) {
  const result = await rastCommand(["status", "--res-dir", dir, "--json"]).output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  return JSON.parse(new TextDecoder().decode(result.stdout));
}

const lines = (path: string) =>
  existsSync(path) ? Deno.readTextFileSync(path).trimEnd().split("\n").filter(Boolean) : [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const shardFile = (dir: string, kind: string, i: number) =>
  join(dir, `${kind}.shard-${i}-of-4.jsonl`);

Deno.test({
  name:
    "four shards run out of order, one killed with SIGKILL and rerun, give the unsharded run's files",
  ignore: !existsSync(SHIM),
  fn: async () => {
    const data = makeDataDir(TMP, 4);
    // Long enough answers that shard 3 is still decoding when its first checkpoint lands: at 24
    // tokens a fast machine finished the whole shard between two looks at its in-flight file.
    const extra = ["--max-tokens", "96"];
    const reference = join(TMP, "unsharded");
    const out = join(TMP, "sharded");
    const dir = join(out, FOLDER);
    const shard = (i: number) => runArgs(data, out, [...extra, "--shard", `${i}/4`]);
    // Shards 2 and 0 beside the unsharded run, all three at once.
    await Promise.all([run(runArgs(data, reference, extra)), run(shard(2)), run(shard(0))]);

    // Shard 3 is killed once it has checkpointed tokens of a sample it has not finished.
    const child = rastCommand(shard(3), { RAST_CHECKPOINT_MS: "20" }).spawn();
    let exited = false;
    child.status.then(() => exited = true);
    const deadline = Date.now() + 60_000;
    while (!exited && readInflight(shardFile(dir, "inflight", 3)).size === 0) {
      assert.ok(Date.now() < deadline, "shard 3 checkpointed within a minute");
      await sleep(5);
    }
    if (!exited) child.kill("SIGKILL");
    const killed = await child.status;
    await child.output().catch(() => undefined);
    assert.equal(killed.signal, "SIGKILL", "shard 3 was still running when killed");

    // The half-done folder, as its files say (counted here from the files themselves).
    const half = await status(dir);
    const done3 = lines(shardFile(dir, "journal", 3)).length;
    const inflight3 = readInflight(shardFile(dir, "inflight", 3)).size;
    assert.equal(half.shards, 4);
    assert.equal(half.assembled, false);
    assert.deepEqual(
      half.parts.map((p: Record<string, unknown>) => [p.rows, p.total, p.done, p.lockedBy]),
      [[1, 2, 2, undefined], [1, 2, 0, undefined], [1, 2, 2, undefined], [1, 2, done3, undefined]],
    );
    assert.equal(half.parts[3].inflight, inflight3);
    assert.ok(inflight3 >= 1 && done3 + inflight3 <= 2);
    assert.ok(!existsSync(join(dir, "prediction-0.jsonl")), "nothing assembled before the end");

    // Shard 1 and the rerun of shard 3 at once; the last to finish assembles.
    await Promise.all([run(shard(1)), run(shard(3))]);
    for (const file of ["prediction-0.jsonl", "prediction-1.jsonl", "verdicts.jsonl"]) {
      assert.equal(
        Deno.readTextFileSync(join(dir, file)),
        Deno.readTextFileSync(join(reference, FOLDER, file)),
        file,
      );
    }
    const metrics = (root: string) =>
      JSON.parse(Deno.readTextFileSync(join(root, FOLDER, "metrics.json")));
    assert.deepEqual(metrics(out), metrics(reference));
    for (let i = 0; i < 4; i++) {
      const keys = lines(shardFile(dir, "journal", i)).map((l) => {
        const r = JSON.parse(l);
        return `${r.row}:${r.sample}`;
      });
      assert.deepEqual(keys.toSorted(), [`${i}:0`, `${i}:1`], `shard ${i}: each sample once`);
    }
    // The samples differ: the seeds, not a constant output, make the files equal.
    assert.notEqual(
      Deno.readTextFileSync(join(dir, "prediction-0.jsonl")),
      Deno.readTextFileSync(join(dir, "prediction-1.jsonl")),
    );
    // eval assembles the same files from the journals alone.
    for (const file of ["prediction-0.jsonl", "prediction-1.jsonl", "metrics.json"]) {
      Deno.removeSync(join(dir, file));
    }
    const evaluated = await rastCommand(["eval", "--res-dir", dir, "--data-dir", data]).output();
    assert.equal(evaluated.code, 0, new TextDecoder().decode(evaluated.stderr));
    assert.equal(
      Deno.readTextFileSync(join(dir, "prediction-1.jsonl")),
      Deno.readTextFileSync(join(reference, FOLDER, "prediction-1.jsonl")),
    );
    assert.equal((await status(dir)).assembled, true);
  },
});

Deno.test("status names the process running a shard; other shard counts and unsharded runs are refused", async () => {
  const data = makeDataDir(TMP, 5);
  const out = join(TMP, "fake");
  const dir = join(out, FOLDER);
  const env = { RAST_ENGINE_MODULE: FAKE_ENGINE };
  const args = (extra: string[]) => runArgs(data, out, ["--max-tokens", "200", ...extra]);
  await run(args(["--shard", "0/3"]), env);
  const child = rastCommand(args(["--shard", "2/3"]), {
    ...env,
    RAST_FAKE_TOKEN_DELAY_MS: "50",
    RAST_CHECKPOINT_MS: "100",
  }).spawn();
  try {
    let seen;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(50)) {
      seen = await status(dir);
      if (seen.parts[2].lockedBy && seen.parts[2].inflight > 0) break;
    }
    // 5 rows in 3 shards: rows 0 | 1 2 | 3 4, two samples each.
    assert.deepEqual(seen.parts.map((p: { total: number }) => p.total), [2, 4, 4]);
    assert.deepEqual(seen.parts.map((p: { done: number }) => p.done).slice(0, 2), [2, 0]);
    assert.equal(seen.parts[2].lockedBy.pid, child.pid);
    assert.equal(seen.parts[0].lockedBy, undefined);
    assert.equal(seen.assembled, false);

    const refused = await rastCommand(args(["--shard", "2/3"]), env).output();
    assert.equal(refused.code, 2);
    assert.match(new TextDecoder().decode(refused.stderr), /Shard 2\/3 .* is in use by pid/);
  } finally {
    child.kill("SIGKILL");
    await child.output();
  }
  for (
    const [extra, message] of [
      [["--shard", "1/4"], /split into 3 shards, not 4; pass --shard 1\/3/],
      [[], /split into 3 shards; pass --shard i\/3/],
    ] as const
  ) {
    const result = await rastCommand(args([...extra]), env).output();
    assert.equal(result.code, 2);
    assert.match(new TextDecoder().decode(result.stderr), message);
  }
});
