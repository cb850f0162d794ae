/**
 * `rast run --batch --deterministic` on the real engine and the tiny trio, sampling at T = 1:
 * a run killed with SIGKILL again and again, each time soon after it saved a checkpoint, still
 * finishes (samples resume mid-way) with prediction files byte-identical to an uninterrupted
 * run's; and the files do not depend on --max-concurrent (1, 5 and 32).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES_DIR, REPO_ROOT } from "./support/paths.ts";
import { readInflight } from "../tui/runs/inflight.ts";
import { SHIM } from "./support/cli_support.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-deterministic-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));
const FOLDER = join("gsm8k", "base_neg_alpha_1.0_temp_1.0");

function dataDir(rows: number): string {
  const dir = Deno.makeTempDirSync({ dir: TMP, prefix: "data-" });
  Deno.mkdirSync(join(dir, "gsm8k"));
  const lines = Array.from(
    { length: rows },
    (_, i) => JSON.stringify({ question: `What is ${i} + 1?`, answer: `#### ${i + 1}` }),
  );
  Deno.writeTextFileSync(join(dir, "gsm8k", "test.jsonl"), lines.join("\n") + "\n");
  return dir;
}

function command(data: string, out: string, extra: string[]): Deno.Command {
  const model = (name: string) => join(FIXTURES_DIR, name);
  return new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "--quiet", "-A", join(REPO_ROOT, "main.ts"), "run", "--batch", "--deterministic"],
      ...["--dataset", "gsm8k", "--data-dir", data, "--base-model", model("base")],
      ...["--positive-model", model("pos"), "--negative-model", model("neg")],
      ...["--dtype", "float32", "--temperature", "1", "--output-dir", out, ...extra],
    ],
    // Checkpoints every 100 ms, so a run is killed several times however fast this machine is.
    env: { NO_COLOR: "1", RAST_CHECKPOINT_MS: "100" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

async function runToEnd(data: string, out: string, extra: string[]): Promise<void> {
  const result = await command(data, out, extra).output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
}

function predictions(out: string, runs: number): string[] {
  return Array.from(
    { length: runs },
    (_, s) => Deno.readTextFileSync(join(out, FOLDER, `prediction-${s}.jsonl`)),
  );
}

/** Tokens checkpointed in inflight.jsonl, all samples together. */
function checkpointed(out: string): number {
  const path = join(out, FOLDER, "inflight.jsonl");
  if (!existsSync(path)) return 0;
  return [...readInflight(path).values()].reduce((n, e) => n + e.tokens.length, 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  name:
    "--deterministic: killed with SIGKILL after every checkpoint, a run of long samples finishes as an uninterrupted one",
  ignore: !existsSync(SHIM),
  fn: async () => {
    const data = dataDir(1);
    // Two samples of 400 tokens (at 100, a resumed process could finish its share before its
    // first 100 ms checkpoint, and the run was killed only once); each of the first 4 processes
    // is killed after its first checkpoint, the fifth runs to the end.
    const extra = ["--num-runs", "2", "--max-tokens", "400", "--max-concurrent", "2"];
    const reference = join(TMP, "uninterrupted");
    await runToEnd(data, reference, extra);

    const out = join(TMP, "killed");
    let kills = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = checkpointed(out);
      const child = command(data, out, extra).spawn();
      const status = child.status;
      let exited = false;
      status.then(() => exited = true);
      // Killed once this process has checkpointed tokens of its own.
      const deadline = Date.now() + 60_000;
      const last = attempt === 4;
      while (!last && !exited && checkpointed(out) <= before && Date.now() < deadline) {
        await sleep(20);
      }
      if (!last && !exited) {
        try {
          child.kill("SIGKILL");
          kills++;
        } catch {
          // It exited on its own just now.
        }
      }
      const { code, signal } = await status;
      await child.output().catch(() => undefined);
      if (code === 0) break;
      assert.equal(signal, "SIGKILL", `attempt ${attempt} exited with ${code}`);
      assert.ok(checkpointed(out) > before, "each killed process left progress behind");
    }
    assert.ok(kills >= 2, `the run was killed ${kills} times before it finished`);
    assert.deepEqual(predictions(out, 2), predictions(reference, 2));
    const journal = Deno.readTextFileSync(join(out, FOLDER, "journal.jsonl"));
    assert.equal(journal.trimEnd().split("\n").length, 2, "each sample journalled once");
  },
});

Deno.test({
  name: "--deterministic: prediction files are byte-identical at --max-concurrent 1, 5 and 32",
  ignore: !existsSync(SHIM),
  fn: async () => {
    const data = dataDir(3);
    const runs = 4;
    const files = [];
    for (const concurrency of [1, 5, 32]) {
      const out = join(TMP, `concurrency-${concurrency}`);
      await runToEnd(data, out, [
        ...["--num-runs", String(runs), "--max-tokens", "24"],
        ...["--max-concurrent", String(concurrency)],
      ]);
      files.push(predictions(out, runs));
    }
    assert.deepEqual(files[1], files[0], "5 at once as 1 at a time");
    assert.deepEqual(files[2], files[0], "32 at once as 1 at a time");
    // The samples differ from each other: the seeds, not a constant output, make them equal.
    assert.ok(new Set(files[0]).size > 1, "different sample indices give different files");
  },
});
