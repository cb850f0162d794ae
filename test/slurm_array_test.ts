/**
 * `rast slurm --submit` on a real Slurm cluster: a job array of 3 shards of a tiny-trio run
 * (real engine, --deterministic, sampling at T = 1) finishes with prediction files,
 * verdicts.jsonl and metrics.json byte-identical to an unsharded `rast run` with the same seed.
 * Skipped where no cluster answers (sbatch missing, sinfo failing); CI starts one
 * (.ci/slurm-up) and sets RAST_SLURM_TEST=1, which turns a missing cluster into a failure.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES_DIR } from "./support/paths.ts";
import { makeDataDir, rastCommand, SHIM } from "./support/cli_support.ts";
import { shardPaths } from "../tui/runs/shards.ts";

const REQUIRED = Deno.env.get("RAST_SLURM_TEST") === "1";
/** The longest the array may take; on a 2-core machine it takes about 15 s. */
const WAIT_MS = 300_000;
const FOLDER = join("gsm8k", "base_neg_alpha_1.0_temp_1.0");

/** Runs a Slurm client command; null when it is missing or fails. */
function slurmClient(args: string[]): string | null {
  try {
    const out = new Deno.Command(args[0], { args: args.slice(1), stdin: "null" }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

/** Whether sinfo answers within 10 s (without a config it retries for a minute). */
async function clusterAnswers(): Promise<boolean> {
  try {
    const out = await new Deno.Command("sinfo", {
      args: ["--noheader", "--format=%t"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(10_000),
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

const cluster = await clusterAnswers();
const ready = cluster && existsSync(SHIM);
const why = !cluster ? "no Slurm cluster answers sinfo" : `the shim ${SHIM} is not built`;
if (REQUIRED && !ready) {
  // In CI the test must run: a cluster that did not come up is a failure, not a skip.
  Deno.test("RAST_SLURM_TEST=1: a Slurm cluster answers and the shim is built", () => {
    assert.ok(cluster, "sinfo failed: no Slurm cluster answers (see .ci/slurm-up)");
    assert.ok(existsSync(SHIM), `the shim ${SHIM} is not built`);
  });
}

async function rast(args: string[]) {
  const out = await rastCommand(args).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The states of the job's array tasks, from scontrol (no accounting database needed). */
function taskStates(jobId: string): string[] {
  const text = slurmClient(["scontrol", "--oneliner", "show", "job", jobId]) ?? "";
  return [...text.matchAll(/JobState=(\S+)/g)].map((m) => m[1]);
}

function logsOf(slurmDir: string): string {
  return [...Deno.readDirSync(slurmDir)].filter((e) => e.name.endsWith(".out"))
    .map((e) => `--- ${e.name}\n${Deno.readTextFileSync(join(slurmDir, e.name)).slice(-2000)}`)
    .join("\n");
}

Deno.test({
  name: "a Slurm array of 3 shards gives the files of the unsharded run with the same seed" +
    (ready ? "" : ` (ignored: ${why})`),
  ignore: !ready,
  fn: async () => {
    const tmp = Deno.makeTempDirSync({ prefix: "rast-slurm-array-" });
    try {
      // 5 rows make shards of 1, 2 and 2 rows.
      const data = makeDataDir(tmp, 5);
      const model = (name: string) => join(FIXTURES_DIR, name);
      const options = (out: string) => [
        ...["--dataset", "gsm8k", "--data-dir", data, "--base-model", model("base")],
        ...["--positive-model", model("pos"), "--negative-model", model("neg")],
        ...["--device", "cpu", "--dtype", "float32", "--deterministic", "--temperature", "1"],
        ...["--seed", "7", "--num-runs", "3", "--max-tokens", "12", "--output-dir", out],
      ];
      const sharded = join(tmp, "sharded");
      const submitted = await rast(["slurm", "--submit", "--array-size", "3", ...options(sharded)]);
      assert.equal(submitted.code, 0, submitted.stderr);
      const jobId = submitted.stdout.trim();
      assert.match(jobId, /^\d+$/);

      // The unsharded reference runs while the array waits for, or shares, the CPUs.
      const reference = join(tmp, "reference");
      const run = await rast(["run", "--batch", ...options(reference)]);
      assert.equal(run.code, 0, run.stderr);

      const slurmDir = join(sharded, "slurm");
      const deadline = Date.now() + WAIT_MS;
      while ((slurmClient(["squeue", "--noheader", "--jobs", jobId]) ?? "").trim() !== "") {
        assert.ok(Date.now() < deadline, `job ${jobId} still queued after ${WAIT_MS} ms`);
        await sleep(500);
      }
      const states = taskStates(jobId);
      assert.deepEqual(states, ["COMPLETED", "COMPLETED", "COMPLETED"], logsOf(slurmDir));

      // Each task ran its own shard: 1, 2 and 2 rows of 3 samples, journalled by that shard.
      const journalled = [0, 1, 2].map((index) =>
        Deno.readTextFileSync(shardPaths(join(sharded, FOLDER), { index, count: 3 }).journal)
          .trimEnd().split("\n").length
      );
      assert.deepEqual(journalled, [3, 6, 6]);
      const files = [
        "metrics.json",
        "verdicts.jsonl",
        ...[0, 1, 2].map((i) => `prediction-${i}.jsonl`),
      ];
      for (const name of files) {
        assert.equal(
          Deno.readTextFileSync(join(sharded, FOLDER, name)),
          Deno.readTextFileSync(join(reference, FOLDER, name)),
          `${name} of the array is the unsharded run's`,
        );
      }
      // The samples differ: equality comes from the seeds, not from constant outputs.
      const samples = [0, 1, 2].map((i) =>
        Deno.readTextFileSync(join(reference, FOLDER, `prediction-${i}.jsonl`))
      );
      assert.ok(new Set(samples).size > 1, "different samples give different files");
      assert.equal(samples[0].trimEnd().split("\n").length, 5, "every row once");
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});
