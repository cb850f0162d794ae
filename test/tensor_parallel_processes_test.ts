// Tensor parallelism across processes: ranks started as torchrun starts them (WORLD_SIZE, RANK,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT on loopback), each running the same `rast` command line,
// against transformers' references (test/fixtures) and one process; and the failures a world
// of processes adds (a rank that never comes, a rank that dies) as one-line errors.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readSafetensors, toFloat32 } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR, REPO_ROOT } from "./support/paths.ts";
import { ints } from "./support/fixture_cases.ts";
import { maxRelError } from "./support/numeric.ts";
import { makeDataDir, rastCommand } from "./support/cli_support.ts";

const fixture = (m: string) => join(FIXTURES_DIR, m);
const PROMPT0 = "5,17,300,42,999,7,1100";
const decoder = new TextDecoder();

interface RankOutput {
  code: number;
  stdout: string;
  stderr: string;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** The environment torchrun gives rank `rank` of `world` on this machine. */
function rankEnv(rank: number, world: number, port: number, extra: Record<string, string> = {}) {
  return {
    WORLD_SIZE: String(world),
    RANK: String(rank),
    LOCAL_RANK: String(rank),
    MASTER_ADDR: "127.0.0.1",
    MASTER_PORT: String(port),
    ...extra,
  };
}

async function collect(child: Deno.ChildProcess): Promise<RankOutput> {
  const out = await child.output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** `rast ARGS` as every rank of a world of `world` processes; their outputs, rank 0 first. */
function ranks(args: string[], world = 2): Promise<RankOutput[]> {
  const port = freePort();
  const children = Array.from(
    { length: world },
    (_, rank) => rastCommand(args, rankEnv(rank, world, port)).spawn(),
  );
  return Promise.all(children.map(collect));
}

/** Asserts that the ranks other than 0 printed nothing and left with rank 0's exit code. */
function assertQuietFollowers(outputs: RankOutput[]) {
  for (const [rank, out] of outputs.entries()) {
    if (rank === 0) continue;
    assert.equal(out.code, outputs[0].code, `rank ${rank} exit code`);
    assert.equal(out.stdout + out.stderr, "", `rank ${rank} printed something`);
  }
}

Deno.test("two processes: rast logits gives transformers' logits, the base split across both", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rast-mptp-" });
  try {
    const out = join(dir, "logits.safetensors");
    const run = await ranks([
      "logits",
      "--model",
      fixture("base"),
      "--tokens",
      PROMPT0,
      "--out",
      out,
    ]);
    assert.equal(run[0].code, 0, run[0].stderr);
    assertQuietFollowers(run);
    const got = (await readSafetensors(out)).get("logits")!;
    assert.deepEqual(got.shape, [7, 1280]);
    const ref = await readSafetensors(fixture("reference.safetensors"));
    const err = maxRelError(toFloat32(got), toFloat32(ref.get("prompt0.base.logits")!));
    assert.ok(err < 1e-4, `relative error ${err} against transformers`);
    const info = await ranks(["info", "--model", fixture("base")]);
    assert.equal(info[0].code, 0, info[0].stderr);
    assert.match(info[0].stdout, /tensor parallel\s+2\b/);
    assertQuietFollowers(info);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two processes: RAST greedy ids equal one process's and transformers'", async () => {
  const ref = await readSafetensors(fixture("reference.safetensors"));
  const expected = ints(ref, "prompt0.rast_alpha1.0.greedy");
  const args = (smallModels: string) => [
    ...["generate", "--model", fixture("base"), "--positive-model", fixture("pos")],
    ...["--negative-model", fixture("neg"), "--tokens", PROMPT0, "--max-new-tokens", "24"],
    ...["--temperature", "0", "--small-models", smallModels, "--json"],
  ];
  const single = await collect(rastCommand(args("whole")).spawn());
  assert.equal(single.code, 0, single.stderr);
  assert.deepEqual(JSON.parse(single.stdout), { tokens: expected }, "one process");
  // whole: the small models on rank 0 alone; sharded: all three split across the processes.
  for (const smallModels of ["whole", "sharded"]) {
    const run = await ranks(args(smallModels));
    assert.equal(run[0].code, 0, run[0].stderr);
    assert.deepEqual(JSON.parse(run[0].stdout), JSON.parse(single.stdout), smallModels);
    assertQuietFollowers(run);
  }
});

Deno.test("two processes running the same ./rast run line write one process's predictions", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rast-mptp-run-" });
  try {
    const args = (out: string) => [
      ...["run", "--dataset", "gsm8k", "--data-dir", makeDataDir(dir), "--batch"],
      ...["--base-model", fixture("base"), "--positive-model", fixture("pos")],
      ...["--negative-model", fixture("neg"), "--num-runs", "2", "--max-tokens", "40"],
      ...["--output-dir", join(dir, out)],
    ];
    const single = await collect(rastCommand(args("one")).spawn());
    assert.equal(single.code, 0, single.stderr);
    const run = await ranks(args("two"));
    assert.equal(run[0].code, 0, run[0].stderr);
    assertQuietFollowers(run);
    const files = (out: string) => {
      const folder = join(dir, out, "gsm8k", "base_neg_alpha_1.0_temp_1.0");
      return ["prediction-0.jsonl", "prediction-1.jsonl", "metrics.json"].map((f) =>
        Deno.readTextFileSync(join(folder, f))
      );
    };
    assert.deepEqual(files("two"), files("one"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two processes of the C example: RAST steps through rast.h alone give the reference ids", async () => {
  const ref = await readSafetensors(fixture("reference.safetensors"));
  const port = freePort();
  const children = [0, 1].map((rank) =>
    new Deno.Command(join(REPO_ROOT, "ffi", "build", "rast_example"), {
      args: [
        ...["--rast", fixture("base"), fixture("pos"), fixture("neg"), "1.0", "24"],
        ...ints(ref, "prompt0.ids").map(String),
      ],
      env: rankEnv(rank, 2, port),
      stdout: "piped",
      stderr: "piped",
    }).spawn()
  );
  const run = await Promise.all(children.map(collect));
  assert.equal(run[0].code, 0, run[0].stderr);
  const got = run[0].stdout.trim().split(",").map(Number);
  assert.deepEqual(got, ints(ref, "prompt0.rast_alpha1.0.greedy"));
  assertQuietFollowers(run);
});

Deno.test("the other ranks wait out a rank 0 idle longer than RAST_WORLD_TIMEOUT", async () => {
  const port = freePort();
  const children = [0, 1].map((rank) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "-A", join(REPO_ROOT, "test", "support", "world_idle_rank.ts")],
      env: rankEnv(rank, 2, port, { RAST_WORLD_TIMEOUT: "2" }),
      stdout: "piped",
      stderr: "piped",
    }).spawn()
  );
  const run = await Promise.all(children.map(collect));
  assert.equal(run[0].code, 0, run[0].stderr);
  assertQuietFollowers(run);
  const { tensorParallel, logits } = JSON.parse(run[0].stdout);
  assert.equal(tensorParallel, 2);
  const ref = await readSafetensors(fixture("reference.safetensors"));
  const err = maxRelError(Float32Array.from(logits), toFloat32(ref.get("prompt0.base.logits")!));
  assert.ok(err < 1e-4, `relative error ${err} against transformers`);
});

Deno.test("a rank that never comes fails rank 0 within RAST_WORLD_TIMEOUT, in one line", async () => {
  const port = freePort();
  const started = Date.now();
  const env = rankEnv(0, 2, port, { RAST_WORLD_TIMEOUT: "3" });
  const run = await collect(rastCommand(["info", "--model", fixture("base")], env).spawn());
  const seconds = (Date.now() - started) / 1000;
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.stdout, "");
  const lines = run.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, run.stderr);
  assert.match(
    lines[0],
    new RegExp(
      `^rast: Only 1 of the WORLD_SIZE=2 ranks came to MASTER_ADDR:MASTER_PORT=127\\.0\\.0\\.1:` +
        `${port} within RAST_WORLD_TIMEOUT \\(3 s\\); start every rank with the same ` +
        `MASTER_ADDR, MASTER_PORT and WORLD_SIZE$`,
    ),
  );
  assert.ok(seconds >= 3 && seconds < 60, `gave up after ${seconds} s`);
  // And a rank whose rank 0 never comes.
  const alone = await collect(
    rastCommand(
      ["info", "--model", fixture("base")],
      rankEnv(1, 2, port, { RAST_WORLD_TIMEOUT: "3" }),
    ).spawn(),
  );
  assert.equal(alone.code, 1, alone.stderr);
  assert.match(
    alone.stderr,
    /^rast: Rank 1 [^\n]*\(WORLD_SIZE=2 at MASTER_ADDR:MASTER_PORT=127\.0\.0\.1:\d+\)[^\n]*RAST_WORLD_TIMEOUT \(3 s\)[^\n]*\n$/,
  );
});

Deno.test("a rank killed mid-run fails rank 0 in one line, and rank 0 killed ends the others", async () => {
  // Rank 0 prints its vocab notice once every model is loaded: then rank 1 dies, mid-generation.
  const args = [
    ...["generate", "--model", fixture("base"), "--positive-model", fixture("pos")],
    ...["--negative-model", fixture("neg"), "--tokens", PROMPT0, "--max-new-tokens", "200"],
    ...["--temperature", "0", "--small-models", "sharded", "--json"],
  ];
  const killed = async (victim: number): Promise<RankOutput[]> => {
    const port = freePort();
    const children = [0, 1].map((rank) => rastCommand(args, rankEnv(rank, 2, port)).spawn());
    const [stdout0, stderr0] = [children[0].stdout, children[0].stderr];
    const reader = stderr0.pipeThrough(new TextDecoderStream()).getReader();
    let stderr = "";
    while (!stderr.includes("vocab:")) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    children[victim].kill("SIGKILL");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
    const rank0 = {
      code: (await children[0].status).code,
      stdout: await new Response(stdout0).text(),
      stderr,
    };
    return [rank0, await collect(children[1])];
  };
  const [rank0, rank1] = await killed(1);
  assert.equal(rank1.code, 137);
  assert.equal(rank0.code, 1, rank0.stderr);
  const last = rank0.stderr.trimEnd().split("\n").at(-1)!;
  assert.match(
    last,
    /^rast: Lost the process world \(WORLD_SIZE=2 at 127\.0\.0\.1:\d+\): .+; see the other ranks' output, then restart every rank$/,
  );
  const [, follower] = await killed(0);
  assert.equal(follower.code, 1);
  assert.match(
    follower.stderr,
    /^rast: Rank 0 of the process world \(127\.0\.0\.1:\d+\) went away without closing it: .+; see rank 0's output\n$/,
  );
});
