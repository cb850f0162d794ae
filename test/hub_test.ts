import assert from "node:assert/strict";
import { join } from "node:path";
import { hubCacheDir, resolveModel } from "../engine/hub.ts";
import { UserError } from "../engine/errors.ts";
import { FIXTURES_DIR } from "./support/paths.ts";

/** Every temporary folder of this file lives here and goes when the tests end. */
const TMP = Deno.makeTempDirSync({ prefix: "rast-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

/** A fake HF cache holding models--Org--Name with the given snapshots and refs/main. */
function makeCache(
  root: string,
  repo: string,
  opts: { snapshots: string[]; main?: string; withConfig?: boolean },
): string {
  const [org, name] = repo.split("/");
  const repoDir = join(root, "hub", `models--${org}--${name}`);
  for (const rev of opts.snapshots) {
    Deno.mkdirSync(join(repoDir, "snapshots", rev), { recursive: true });
    if (opts.withConfig !== false) {
      Deno.writeTextFileSync(join(repoDir, "snapshots", rev, "config.json"), "{}");
    }
  }
  if (opts.main) {
    Deno.mkdirSync(join(repoDir, "refs"), { recursive: true });
    Deno.writeTextFileSync(join(repoDir, "refs", "main"), opts.main + "\n");
  }
  return repoDir;
}

function userErrorMatching(pattern: RegExp): (err: unknown) => boolean {
  return (err) => err instanceof UserError && pattern.test(err.message);
}

Deno.test("a local folder resolves to its absolute path and folder name", () => {
  const model = resolveModel(join(FIXTURES_DIR, "base") + "/");
  assert.equal(model.path, join(FIXTURES_DIR, "base"));
  assert.equal(model.label, "base");
  assert.equal(model.hubId, undefined);
});

Deno.test("a hub id resolves through refs/main in HF_HOME/hub", () => {
  const home = Deno.makeTempDirSync({ dir: TMP });
  const repoDir = makeCache(home, "Qwen/Qwen2.5-Math-1.5B", {
    snapshots: ["aaa", "bbb"],
    main: "bbb",
  });
  const model = resolveModel("Qwen/Qwen2.5-Math-1.5B", { HF_HOME: home });
  assert.equal(model.path, join(repoDir, "snapshots", "bbb"));
  assert.equal(model.label, "Qwen2.5-Math-1.5B");
  assert.equal(model.hubId, "Qwen/Qwen2.5-Math-1.5B");
  assert.equal(model.revision, "bbb");
});

Deno.test("without refs/main, a single snapshot is used and several are refused", () => {
  const home = Deno.makeTempDirSync({ dir: TMP });
  makeCache(home, "Org/One", { snapshots: ["only"] });
  assert.equal(resolveModel("Org/One", { HF_HOME: home }).revision, "only");
  makeCache(home, "Org/Two", { snapshots: ["r1", "r2"] });
  assert.throws(
    () => resolveModel("Org/Two", { HF_HOME: home }),
    userErrorMatching(/no usable snapshot/),
  );
});

Deno.test("HF_HUB_CACHE wins over HF_HOME, and ~/.cache is the fallback", () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: "/a", HF_HOME: "/b" }), "/a");
  assert.equal(hubCacheDir({ HF_HOME: "/b", HOME: "/h" }), "/b/hub");
  assert.equal(hubCacheDir({ HOME: "/h" }), "/h/.cache/huggingface/hub");
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: "/x", HOME: "/h" }), "/x/huggingface/hub");
});

Deno.test("a path inside the hub cache is labelled with the model name, not the revision", () => {
  const home = Deno.makeTempDirSync({ dir: TMP });
  const repoDir = makeCache(home, "Org/Model-7B", { snapshots: ["c0ffee"] });
  const model = resolveModel(join(repoDir, "snapshots", "c0ffee"), {});
  assert.equal(model.label, "Model-7B");
  assert.equal(model.hubId, "Org/Model-7B");
});

Deno.test("a hub id missing from the cache names the folder tried and the fix", () => {
  const home = Deno.makeTempDirSync({ dir: TMP });
  assert.throws(
    () => resolveModel("Org/Absent", { HF_HOME: home }),
    (err) =>
      err instanceof UserError && err.message.includes(join(home, "hub", "models--Org--Absent")) &&
      err.message.includes("huggingface-cli download Org/Absent") && !err.message.includes("\n"),
  );
});

Deno.test("a missing folder that is not a hub id, a file, and a folder without config.json are refused", () => {
  assert.throws(() => resolveModel("./no/such/model/dir", {}), userErrorMatching(/does not exist/));
  const dir = Deno.makeTempDirSync({ dir: TMP });
  Deno.writeTextFileSync(join(dir, "weights.bin"), "");
  assert.throws(() => resolveModel(join(dir, "weights.bin"), {}), userErrorMatching(/is a file/));
  assert.throws(() => resolveModel(dir, {}), userErrorMatching(/has no config\.json/));
  const home = Deno.makeTempDirSync({ dir: TMP });
  makeCache(home, "Org/NoConfig", { snapshots: ["r"], main: "r", withConfig: false });
  assert.throws(
    () => resolveModel("Org/NoConfig", { HF_HOME: home }),
    userErrorMatching(/has no config\.json/),
  );
});
