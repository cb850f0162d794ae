/**
 * `rast slurm` without a cluster: it refuses bad run options with `run`'s own line and exit 2,
 * and bad Slurm options likewise, writing nothing; the script it writes hands `rast run` the
 * options given, word for word as bash reads them (bash is the reference); --submit calls
 * `sbatch --parsable` and prints the job id, or says sbatch is missing.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES_DIR, REPO_ROOT } from "./support/paths.ts";
import { makeDataDir, rastCommand } from "./support/cli_support.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-slurm-cli-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));
const model = (name: string) => join(FIXTURES_DIR, name);
const FOLDER = "rast-gsm8k-base_neg_alpha_1.0_temp_1.0";

async function rast(args: string[], env: Record<string, string> = {}) {
  const out = await rastCommand(args, env).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** `run` options on the tiny trio (4 data rows), into a fresh output folder. */
function runOptions(extra: string[] = []): { args: string[]; out: string } {
  const out = join(Deno.makeTempDirSync({ dir: TMP }), "results");
  const args = [
    ...["--dataset", "gsm8k", "--data-dir", makeDataDir(TMP), "--base-model", model("base")],
    ...["--positive-model", model("pos"), "--negative-model", model("neg")],
    ...["--output-dir", out, ...extra],
  ];
  return { args, out };
}

Deno.test("slurm refuses bad run options with run's own line and exit 2, writing nothing", async () => {
  const cases = [
    ["--top-p", "2"],
    ["--num-runs", "0"],
    ["--pair", "only-one-part"],
    ["--start", "3", "--end", "2"],
    ["--max-tokens", "0"],
    ["--dtype", "float64"],
    ["--layout", "other"],
  ];
  for (const bad of cases) {
    const { args, out } = runOptions(bad);
    const run = await rast(["run", ...args]);
    const slurm = await rast(["slurm", "--array-size", "2", ...args]);
    assert.equal(run.code, 2, `run ${bad.join(" ")}: ${run.stderr}`);
    assert.equal(slurm.code, 2, `slurm ${bad.join(" ")}`);
    assert.equal(slurm.stderr, run.stderr, `slurm ${bad.join(" ")} says what run says`);
    assert.equal(slurm.stderr.trimEnd().split("\n").length, 1);
    assert.ok(!existsSync(out), `nothing written for ${bad.join(" ")}`);
  }
});

Deno.test("slurm refuses bad Slurm options with one line and exit 2, writing nothing", async () => {
  const cases: [string[], RegExp][] = [
    [[], /--array-size is missing/],
    [["--array-size", "0"], /--array-size 0 is out of range/],
    [["--array-size", "5"], /--array-size 5 is more than the run's 4 rows; pass 4 or less/],
    [["--array-size", "2", "--time", "1:2:3:4"], /--time "1:2:3:4" is not valid/],
    [["--array-size", "2", "--mem", "4 G"], /--mem "4 G" is not valid/],
    [["--array-size", "2", "--partition", "gpu\n#SBATCH --x"], /--partition ".*" is not valid/s],
    [["--array-size", "2", "--gpus-per-task", "-1"], /--gpus-per-task "-1" is not a whole/],
    [["--array-size", "2", "--shard", "0/2"], /--shard is set for each array task/],
    [["--array-size", "2", "--data-parallel-size", "2"], /drop it here/],
  ];
  for (const [bad, message] of cases) {
    const { args, out } = runOptions();
    const { code, stderr } = await rast(["slurm", ...args, ...bad]);
    assert.equal(code, 2, `${bad.join(" ")}: ${stderr}`);
    assert.match(stderr, message);
    assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
    assert.ok(!existsSync(out), `nothing written for ${bad.join(" ")}`);
  }
});

Deno.test("the script's rast run gets every option given, as bash reads the script", async () => {
  const tricky = [
    ...["--stop", 'it\'s "quoted" $HOME `date` \\n', "--stop", "-starts-with-dash"],
    ...["--prompt-template", "Q: {input}\nA:", "--alpha", "0.5", "--deterministic"],
    ...["--no-save-stats", "--temperature", "0.7", "--seed", "9", "--device", "cpu"],
  ];
  const { args, out } = runOptions(tricky);
  const slurm = await rast([
    "slurm",
    ...args,
    ...["--array-size", "3", "--partition", "debug", "--time", "1-02:00:00", "--mem", "8G"],
    ...["--cpus-per-task", "4", "--account", "lab", "--qos", "high"],
  ]);
  assert.equal(slurm.code, 0, slurm.stderr);
  const script = slurm.stdout.trim();
  const folder = "rast-gsm8k-base_neg_alpha_0.5_temp_0.7";
  assert.equal(script, join(out, "slurm", `${folder}.sbatch`));
  const text = Deno.readTextFileSync(script);
  const directives = text.split("\n").filter((l) => l.startsWith("#SBATCH "));
  assert.deepEqual(directives.sort(), [
    "#SBATCH --account=lab",
    "#SBATCH --array=0-2",
    `#SBATCH --chdir=${Deno.cwd()}`,
    "#SBATCH --cpus-per-task=4",
    "#SBATCH --job-name=rast-gsm8k",
    "#SBATCH --mem=8G",
    "#SBATCH --ntasks=1",
    `#SBATCH --output=${join(out, "slurm", folder)}-%A_%a.out`,
    "#SBATCH --partition=debug",
    "#SBATCH --qos=high",
    "#SBATCH --time=1-02:00:00",
  ], "no --gpus-per-task for a CPU run");

  // bash runs the script with printf in place of the launcher: what it prints is the argv a
  // task's `rast run` receives.
  const launcher = join(REPO_ROOT, "rast");
  assert.ok(text.includes(`exec ${launcher} run `), text);
  const echo = text.replace(`exec ${launcher} run `, "exec printf '%s\\0' run ");
  const bash = await new Deno.Command("bash", {
    args: ["-c", echo],
    env: { SLURM_ARRAY_TASK_ID: "1" },
    stdout: "piped",
  }).output();
  assert.equal(bash.code, 0);
  const argv = new TextDecoder().decode(bash.stdout).split("\0").slice(0, -1);
  const expected = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const takesValue = !["--deterministic", "--no-save-stats"].includes(flag);
    expected.push(takesValue ? `${flag}=${args[++i]}` : flag);
  }
  assert.equal(argv[0], "run");
  assert.deepEqual(argv.slice(-2), ["--shard", "1/3"]);
  assert.deepEqual(argv.slice(1, -2).sort(), expected.sort());
});

Deno.test("slurm asks for --tensor-parallel-size GPUs per task unless told otherwise", async () => {
  for (
    const [extra, gpus] of [
      [["--tensor-parallel-size", "2"], "2"],
      [["--tensor-parallel-size", "2", "--gpus-per-task", "8"], "8"],
      [["--device", "cuda:0"], "1"],
      [["--device", "cpu", "--gpus-per-task", "1"], "1"],
    ] as [string[], string][]
  ) {
    const { args } = runOptions(extra);
    const slurm = await rast(["slurm", "--array-size", "2", ...args]);
    assert.equal(slurm.code, 0, slurm.stderr);
    const text = Deno.readTextFileSync(slurm.stdout.trim());
    assert.match(text, new RegExp(`^#SBATCH --gpus-per-task=${gpus}$`, "m"), extra.join(" "));
  }
});

Deno.test("--submit without sbatch on PATH is one line naming the fix, and writes nothing", async () => {
  const { args, out } = runOptions();
  const empty = Deno.makeTempDirSync({ dir: TMP });
  const { code, stderr } = await rast(["slurm", "--submit", "--array-size", "2", ...args], {
    PATH: empty,
  });
  assert.equal(code, 2);
  assert.match(stderr, /^rast: --submit needs sbatch, which is not on PATH; .*slurm-client/);
  assert.equal(stderr.trimEnd().split("\n").length, 1);
  assert.ok(!existsSync(out));
});

Deno.test("--submit runs sbatch --parsable on the script and prints the job id", async () => {
  // A stand-in sbatch that records its arguments and answers as `sbatch --parsable` does on a
  // multi-cluster site ("<job id>;<cluster>").
  const bin = Deno.makeTempDirSync({ dir: TMP });
  const record = join(bin, "args");
  Deno.writeTextFileSync(
    join(bin, "sbatch"),
    `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\necho '4242;cluster-a'\n`,
    { mode: 0o755 },
  );
  const { args, out } = runOptions();
  const slurm = await rast(["slurm", "--submit", "--array-size", "2", ...args], {
    PATH: `${bin}:${Deno.env.get("PATH")}`,
  });
  assert.equal(slurm.code, 0, slurm.stderr);
  assert.equal(slurm.stdout, "4242\n");
  const script = join(out, "slurm", `${FOLDER}.sbatch`);
  assert.deepEqual(Deno.readTextFileSync(record).trimEnd().split("\n"), ["--parsable", script]);
  assert.match(slurm.stderr, new RegExp(`wrote ${script}`));
});
