/**
 * `./rast demo` as the README's first command: driven in a real terminal (tmux, 100×30), the
 * live panels appear and `q` exits 0 with the results in the output folder; in batch mode it
 * stops at --duration with exit 0. The demo trio is pre-built into a temporary RAST_CACHE_DIR.
 * The pane stays after the demo ends (remain-on-exit), so a failure shows its last screen.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensureDemoTrio } from "../tui/checkpoints/demo_models.ts";
import { REPO_ROOT } from "./support/paths.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-demo-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));
const CACHE = join(TMP, "cache");
const RUN_DIR = "demo/base_neg_alpha_1.0_temp_1.0";

const hasTmux = (() => {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();
if (!hasTmux) console.warn("tui_demo_tmux_test: tmux is not installed; skipping the tmux test");

/** A private tmux server, so the test never touches the user's sessions. */
const SOCKET = `rast-demo-test-${Deno.pid}`;

async function tmux(...args: string[]): Promise<{ ok: boolean; stdout: string }> {
  const out = await new Deno.Command("tmux", {
    args: ["-L", SOCKET, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { ok: out.success, stdout: new TextDecoder().decode(out.stdout) };
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>) {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

Deno.test({
  name: "./rast demo in tmux: the panels appear and q exits 0, results saved outside the repo",
  ignore: !hasTmux,
  async fn() {
    await ensureDemoTrio(join(CACHE, "demo"));
    const out = join(TMP, "tmux-out");
    const exitFile = join(TMP, "exit-code");
    // CI=true as job runners export it: Ink would draw nothing live, rast must still.
    const command =
      `cd ${quote(REPO_ROOT)} && CI=true RAST_CACHE_DIR=${quote(CACHE)} ./rast demo --random ` +
      `--duration 300 --output-dir ${quote(out)} 2>${quote(join(TMP, "stderr"))}; ` +
      `echo EXIT=$? > ${quote(exitFile)}`;
    let screen = "";
    try {
      const started = await tmux(
        "new-session",
        "-d",
        "-s",
        "demo",
        "-x",
        "100",
        "-y",
        "30",
        command,
      );
      assert.ok(started.ok, "tmux new-session failed");
      await tmux("set-option", "-t", "demo", "remain-on-exit", "on");
      // The stable texts of the header, heatmap, chosen-token line, accuracy and status line.
      const panels = [
        "rast · demo (random weights)",
        "heatmap · last",
        "chosen ",
        "accuracy",
        "tok/s",
      ];
      // Generous: ./rast rebuilds the shim first when its sources changed since the last build.
      await waitFor("the demo's panels", 300_000, async () => {
        screen = (await tmux("capture-pane", "-p", "-t", "demo")).stdout;
        if (existsSync(exitFile)) {
          throw new Error(`The demo exited early (${Deno.readTextFileSync(exitFile).trim()})`);
        }
        // The accuracy panel reads "accuracy: no graded sample yet", later "acc 0.0% (0/1)".
        return panels.every((p) =>
          screen.includes(p) || (p === "accuracy" && screen.includes("acc "))
        );
      });
      for (const line of screen.split("\n")) assert.ok(line.length <= 100);
      await tmux("send-keys", "-t", "demo", "q");
      await waitFor(
        "the demo to exit after q",
        60_000,
        () => Promise.resolve(existsSync(exitFile)),
      );
    } catch (err) {
      const stderr = existsSync(join(TMP, "stderr"))
        ? Deno.readTextFileSync(join(TMP, "stderr"))
        : "";
      throw new Error(`${err}\nscreen:\n${screen}\nstderr:\n${stderr}`);
    } finally {
      await tmux("kill-server");
    }
    assert.equal(Deno.readTextFileSync(exitFile).trim(), "EXIT=0");
    assert.ok(existsSync(join(out, RUN_DIR, "run.json")), "run.json in the output folder");
    const stderr = Deno.readTextFileSync(join(TMP, "stderr"));
    assert.match(stderr, /RANDOM weights/);
  },
});

/** `rast demo --random --batch ARGS` on the pre-built random trio; its exit code and stderr. */
async function demoBatch(args: string[], env: Record<string, string> = {}) {
  await ensureDemoTrio(join(CACHE, "demo"));
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", join(REPO_ROOT, "main.ts"), "demo", "--random", "--batch"]
      .concat(["--num-runs", "1", ...args]),
    env: { RAST_CACHE_DIR: CACHE, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: result.code, stderr: new TextDecoder().decode(result.stderr) };
}

Deno.test("demo --batch stops at --duration with exit 0 and reports where its results are", async () => {
  const out = join(TMP, "batch-out");
  const { code, stderr } = await demoBatch(["--duration", "4", "--output-dir", out]);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /the --random models have RANDOM weights/);
  assert.ok(!/building the random models/.test(stderr), "the pre-built trio is reused");
  assert.match(stderr, /rast demo: stopped with \d+\/12 samples done; results in .*batch-out/);
  assert.ok(existsSync(join(out, RUN_DIR, "run.json")));
});

Deno.test("demo --batch without --output-dir leaves nothing in the temp folder", async () => {
  const tmpdir = Deno.makeTempDirSync({ dir: TMP, prefix: "tmpdir-" });
  const { code, stderr } = await demoBatch(["--duration", "3"], { TMPDIR: tmpdir });
  assert.equal(code, 0, stderr);
  assert.match(stderr, /results not kept \(pass --output-dir to keep them\)/);
  assert.deepEqual([...Deno.readDirSync(tmpdir)].map((e) => e.name), []);
});
