/**
 * `rast run --batch` on the real engine and the tiny trio: settings that used to spin finish,
 * the start-up line names the KV pool, and SIGTERM ends a long run within a second with the
 * finished samples kept.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES_DIR } from "./support/paths.ts";
import { makeDataDir, rastCommand } from "./support/cli_support.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-paged-run-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

function command(rows: number, out: string, extra: string[]): Deno.Command {
  return rastCommand([
    "run",
    "--batch",
    ...["--dataset", "gsm8k", "--data-dir", makeDataDir(TMP, rows)],
    ...["--base-model", join(FIXTURES_DIR, "base"), "--positive-model", join(FIXTURES_DIR, "pos")],
    ...["--negative-model", join(FIXTURES_DIR, "neg"), "--dtype", "float32", "--output-dir", out],
    ...extra,
  ]);
}

Deno.test("--max-concurrent 1 --num-runs 2 finishes every sample and prints the KV pool", async () => {
  const out = join(TMP, "one-at-a-time");
  const result = await command(2, out, [
    "--max-concurrent",
    "1",
    "--num-runs",
    "2",
    "--max-tokens",
    "6",
  ])
    .output();
  const stderr = new TextDecoder().decode(result.stderr);
  assert.equal(result.code, 0, stderr);
  assert.match(
    stderr,
    /rast: KV pool: \d+ blocks of 16 = \d+ tokens, [\d.]+ GiB .*at most 1 sequences at once/,
  );
  const dir = join(out, "gsm8k", "base_neg_alpha_1.0_temp_1.0");
  for (const name of ["prediction-0.jsonl", "prediction-1.jsonl"]) {
    const lines = Deno.readTextFileSync(join(dir, name)).trimEnd().split("\n");
    assert.equal(lines.length, 2, name);
  }
});

Deno.test("SIGTERM ends a long run within a second and keeps the finished samples", async () => {
  const out = join(TMP, "terminated");
  const child = command(4, out, [
    "--num-runs",
    "200",
    "--max-tokens",
    "20",
    "--max-concurrent",
    "4",
  ]).spawn();
  const journal = join(out, "gsm8k", "base_neg_alpha_1.0_temp_1.0", "journal.jsonl");
  const journalled = () =>
    existsSync(journal) ? Deno.readTextFileSync(journal).trimEnd().split("\n").length : 0;
  const deadline = Date.now() + 60_000;
  while (journalled() < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(journalled() >= 5, "the run got going");
  const sent = performance.now();
  child.kill("SIGTERM");
  const status = await child.output();
  const took = performance.now() - sent;
  assert.ok(took < 1000, `exited ${took.toFixed(0)} ms after SIGTERM`);
  assert.notEqual(status.code, 0);
  // Every journalled sample is whole JSON.
  for (const line of Deno.readTextFileSync(journal).trimEnd().split("\n")) JSON.parse(line);
});
