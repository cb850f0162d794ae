/**
 * Hub downloads against a local server that answers like the hub's file API (test/hub_server.ts,
 * HF_ENDPOINT pointed at it): a run with hub ids fills an empty cache in the huggingface_hub
 * layout, a second run uses the cache with the server stopped, a cut-off download resumes with a
 * Range request, a corrupted file is caught by its hash, a gated repo gets a one-line error.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../engine/errors.ts";
import { downloadModel, ensureModel } from "../engine/hub_download.ts";
import { startFakeHub } from "./support/hub_server.ts";
import { FIXTURES_DIR, REPO_ROOT } from "./support/paths.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

const REPOS = {
  "tiny-org/base-2B": join(FIXTURES_DIR, "base"),
  "tiny-org/pos-1B": join(FIXTURES_DIR, "pos"),
  "tiny-org/neg-1B": join(FIXTURES_DIR, "neg"),
};
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const quiet = () => {};

const sha256 = (path: string) => createHash("sha256").update(Deno.readFileSync(path)).digest("hex");

async function rast(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", join(REPO_ROOT, "main.ts"), ...args],
    env: {
      RAST_ENGINE_MODULE: join(REPO_ROOT, "test", "support", "fake_run_engine.ts"),
      NO_COLOR: "1",
      ...env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("a run with hub ids downloads into an empty cache, then runs from it with the hub gone", async () => {
  const hub = startFakeHub(REPOS);
  const cache = Deno.makeTempDirSync({ dir: TMP });
  const dataDir = Deno.makeTempDirSync({ dir: TMP });
  Deno.mkdirSync(join(dataDir, "gsm8k"));
  Deno.writeTextFileSync(
    join(dataDir, "gsm8k", "test.jsonl"),
    '{"question":"1?","answer":"#### 1"}\n',
  );
  const args = (out: string) => [
    "run",
    "--dataset",
    "GSM8K",
    "--data-dir",
    dataDir,
    "--base-model",
    "tiny-org/base-2B",
    "--positive-model",
    "tiny-org/pos-1B",
    "--negative-model",
    "tiny-org/neg-1B",
    "--num-runs",
    "2",
    "--output-dir",
    out,
    "--layout",
    "authors",
    "--batch",
  ];
  const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cache, HF_TOKEN: "hf_test" };
  let first;
  try {
    first = await rast(args(join(TMP, "out1")), env);
  } finally {
    await hub.stop();
  }
  assert.equal(first.code, 0, first.stderr);
  assert.ok(
    existsSync(join(TMP, "out1", "GSM8K", "2B_1B_alpha_1.0_temp_1.0", "prediction-1.jsonl")),
  );
  for (const [id, dir] of Object.entries(REPOS)) {
    const repo = join(cache, `models--${id.replace("/", "--")}`);
    assert.equal(Deno.readTextFileSync(join(repo, "refs", "main")), COMMIT);
    for (const entry of Deno.readDirSync(dir)) {
      const link = join(repo, "snapshots", COMMIT, entry.name);
      assert.match(readlinkSync(link), /^\.\.\/\.\.\/blobs\/[0-9a-f]{40,64}$/);
      assert.equal(sha256(link), sha256(join(dir, entry.name)));
    }
  }
  const second = await rast(args(join(TMP, "out2")), env); // the server is stopped
  assert.equal(second.code, 0, second.stderr);
  assert.ok(existsSync(join(TMP, "out2", "GSM8K", "2B_1B_alpha_1.0_temp_1.0", "metrics.json")));
});

Deno.test("a download cut off midway resumes from where it stopped", async () => {
  const weights = Deno.statSync(join(FIXTURES_DIR, "pos", "model.safetensors")).size;
  const cutAt = Math.floor(weights / 3);
  const hub = startFakeHub(REPOS, { cutAfter: { "model.safetensors": cutAt } });
  const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: Deno.makeTempDirSync({ dir: TMP }) };
  try {
    await assert.rejects(
      () => downloadModel("tiny-org/pos-1B", { env, onProgress: quiet }),
      (err) => err instanceof UserError && /cut off .*rerun to resume/.test(err.message),
    );
    const repo = join(env.HF_HUB_CACHE, "models--tiny-org--pos-1B");
    assert.equal(existsSync(join(repo, "refs", "main")), false);
    const partial = [...Deno.readDirSync(join(repo, "blobs"))].find((e) =>
      e.name.endsWith(".incomplete")
    );
    assert.ok(partial);
    const kept = Deno.statSync(join(repo, "blobs", partial.name)).size;
    assert.ok(kept > 0 && kept < weights);
    const snapshot = await downloadModel("tiny-org/pos-1B", { env, onProgress: quiet });
    const resumed = hub.log.filter((r) => r.path.endsWith("/model.safetensors"));
    assert.deepEqual(resumed.map((r) => r.range), [null, `bytes=${kept}-`]);
    assert.equal(
      sha256(join(snapshot, "model.safetensors")),
      sha256(join(FIXTURES_DIR, "pos", "model.safetensors")),
    );
  } finally {
    await hub.stop();
  }
});

Deno.test("a corrupted download is caught by its hash and never becomes a model", async () => {
  const hub = startFakeHub(REPOS, { corrupt: new Set(["config.json"]) });
  const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: Deno.makeTempDirSync({ dir: TMP }) };
  try {
    await assert.rejects(
      () => ensureModel("tiny-org/neg-1B", { env, onProgress: quiet }),
      (err) =>
        err instanceof UserError &&
        /"config\.json" of "tiny-org\/neg-1B" is corrupt \(hash /.test(err.message),
    );
    const repo = join(env.HF_HUB_CACHE, "models--tiny-org--neg-1B");
    assert.equal(existsSync(join(repo, "snapshots")), false);
    assert.equal(existsSync(join(repo, "refs", "main")), false);
  } finally {
    await hub.stop();
  }
});

Deno.test("gated and missing repos, and offline mode, get one-line errors naming the fix", async () => {
  const hub = startFakeHub(REPOS, { gated: new Set(["tiny-org/base-2B"]) });
  const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: Deno.makeTempDirSync({ dir: TMP }) };
  const oneLine = (pattern: RegExp) => (err: unknown) =>
    err instanceof UserError && pattern.test(err.message) && !err.message.includes("\n");
  try {
    await assert.rejects(
      () => downloadModel("tiny-org/base-2B", { env, onProgress: quiet }),
      oneLine(/gated or private \(401, no token\); accept its terms .* set HF_TOKEN/),
    );
    await assert.rejects(
      () => downloadModel("tiny-org/nothing", { env, onProgress: quiet }),
      oneLine(/is not on http:\/\/127\.0\.0\.1:\d+ \(404\); check the id/),
    );
    const offline = { ...env, HF_HUB_OFFLINE: "1" };
    assert.equal(
      await ensureModel("tiny-org/pos-1B", { env: offline, onProgress: quiet }),
      "tiny-org/pos-1B",
    );
    assert.equal(hub.log.filter((r) => r.path.includes("pos-1B")).length, 0);
  } finally {
    await hub.stop();
  }
});
