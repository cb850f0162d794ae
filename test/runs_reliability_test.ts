/**
 * `rast run` on a shared, preemptible node: a second process on a folder in use is refused (or
 * waits with --wait) and nothing is corrupted; a full disk stops the run at the first failed
 * write and a rerun after freeing space completes to the files of an uninterrupted run;
 * --num-runs is bounded and SIGTERM ends a run within a second with 143. The engine is the
 * deterministic fake (RAST_ENGINE_MODULE); the reference is an uninterrupted run on a roomy disk.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES_DIR } from "./support/paths.ts";
import { FAKE_ENGINE, makeDataDir as dataDirUnder, rastCommand } from "./support/cli_support.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

const makeDataDir = (rows: number) => dataDirUnder(TMP, rows);

function runArgs(dataDir: string, outputDir: string, extra: string[] = []): string[] {
  return [
    "run",
    "--dataset",
    "gsm8k",
    "--data-dir",
    dataDir,
    "--base-model",
    join(FIXTURES_DIR, "base"),
    "--positive-model",
    join(FIXTURES_DIR, "pos"),
    "--negative-model",
    join(FIXTURES_DIR, "neg"),
    "--num-runs",
    "2",
    "--max-tokens",
    "200",
    "--output-dir",
    outputDir,
    "--batch",
    ...extra,
  ];
}

function spawn(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return rastCommand(args, { RAST_ENGINE_MODULE: FAKE_ENGINE, ...env }).spawn();
}

async function finish(child: Deno.ChildProcess) {
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

const runDirOf = (outputDir: string) => join(outputDir, "gsm8k", "base_neg_alpha_1.0_temp_1.0");

/** Waits until `child` holds the run folder's lock (the lock file names its pid). */
async function holdsLock(dir: string, child: Deno.ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if (JSON.parse(Deno.readTextFileSync(join(dir, "lock"))).pid === child.pid) return;
    } catch {
      // Not written yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`pid ${child.pid} never took the lock of ${dir}`);
}

/** The journal's lines, each checked to be a whole JSON record, and its distinct pairs. */
function journalPairs(dir: string): { lines: number; pairs: Set<string> } {
  const text = Deno.readTextFileSync(join(dir, "journal.jsonl"));
  assert.ok(text === "" || text.endsWith("\n"), "the journal ends with a whole line");
  const records = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
  return { lines: records.length, pairs: new Set(records.map((r) => `${r.row}:${r.sample}`)) };
}

/** The files a finished run derives from its journal, by name. */
function resultFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of Deno.readDirSync(dir)) {
    if (/^prediction-\d+\.jsonl$|^metrics\.json$|^verdicts\.jsonl$/.test(entry.name)) {
      files.set(entry.name, Deno.readTextFileSync(join(dir, entry.name)));
    }
  }
  return files;
}

Deno.test("a second run on a folder in use is refused at once, naming the holder; nothing is corrupted", async () => {
  const dataDir = makeDataDir(6);
  const out = Deno.makeTempDirSync({ dir: TMP, prefix: "rast-lock-" });
  const first = spawn(runArgs(dataDir, out), { RAST_FAKE_TOKEN_DELAY_MS: "3" });
  await holdsLock(runDirOf(out), first);
  const started = performance.now();
  // Another --max-concurrent is not part of the run's identity: the same folder.
  const second = await finish(spawn(runArgs(dataDir, out, ["--max-concurrent", "5"])));
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, new RegExp(`in use by pid ${first.pid} on `));
  assert.match(second.stderr, /--wait/);
  assert.ok(performance.now() - started < 10_000, "refused without waiting for the first");
  const whole = await finish(first);
  assert.equal(whole.code, 0, whole.stderr);
  const { lines, pairs } = journalPairs(runDirOf(out));
  assert.equal(lines, 12, "one journal line per sample, none twice");
  assert.equal(pairs.size, 12);
});

Deno.test("--wait queues behind the holder, then finds the run done and adds nothing", async () => {
  const dataDir = makeDataDir(4);
  const out = Deno.makeTempDirSync({ dir: TMP, prefix: "rast-wait-" });
  const first = spawn(runArgs(dataDir, out), { RAST_FAKE_TOKEN_DELAY_MS: "2" });
  await holdsLock(runDirOf(out), first);
  const second = spawn(runArgs(dataDir, out, ["--wait"]));
  const [a, b] = await Promise.all([finish(first), finish(second)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const { lines, pairs } = journalPairs(runDirOf(out));
  assert.equal(lines, 8);
  assert.equal(pairs.size, 8);
});

Deno.test(
  "a full disk stops the run at the first failed write; after freeing space a rerun completes",
  { ignore: Deno.uid() !== 0 },
  async () => {
    const dataDir = makeDataDir(40);
    const reference = Deno.makeTempDirSync({ dir: TMP, prefix: "rast-ref-" });
    const ref = await finish(spawn(runArgs(dataDir, reference)));
    assert.equal(ref.code, 0, ref.stderr);

    const mount = Deno.makeTempDirSync({ dir: TMP, prefix: "rast-tmpfs-" });
    const mounted = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mount],
    }).output();
    assert.equal(mounted.code, 0, new TextDecoder().decode(mounted.stderr));
    try {
      // 52 KiB of filler leaves three pages: run.json, the lock and one page of journal.
      const filler = join(mount, "filler");
      Deno.writeFileSync(filler, new Uint8Array(52 * 1024));
      const out = join(mount, "results");
      const full = await finish(spawn(runArgs(dataDir, out)));
      assert.equal(full.code, 1, full.stderr);
      assert.match(full.stderr, /No space left on device/);
      assert.match(full.stderr, new RegExp(`Writing to ${runDirOf(out)} failed`));
      const saved = journalPairs(runDirOf(out));
      assert.ok(saved.lines > 0 && saved.lines < 80, `${saved.lines} samples saved`);
      assert.equal(saved.pairs.size, saved.lines);
      // The last progress line claims no more than the journal holds.
      const claims = [...full.stderr.matchAll(/(\d+)\/80 samples/g)].map((m) => Number(m[1]));
      assert.ok(claims.length > 0 && Math.max(...claims) <= saved.lines, full.stderr);

      Deno.removeSync(filler);
      const rerun = await finish(spawn(runArgs(dataDir, out)));
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual(resultFiles(runDirOf(out)), resultFiles(runDirOf(reference)));
      assert.equal(journalPairs(runDirOf(out)).lines, 80);
    } finally {
      await new Deno.Command("umount", { args: [mount] }).output();
    }
  },
);

Deno.test("--num-runs has an upper bound, refused before anything is written", async () => {
  const dataDir = makeDataDir(2);
  const out = join(TMP, "never-made");
  const started = performance.now();
  const r = await finish(spawn(runArgs(dataDir, out, ["--num-runs", "100000000"])));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--num-runs 100000000 is out of range; pass 1 to 10000/);
  assert.ok(performance.now() - started < 10_000);
  assert.equal(existsSync(out), false);
});

Deno.test("SIGTERM ends a run of 10000 samples per question within a second, exit 143", async () => {
  const dataDir = makeDataDir(50);
  const out = Deno.makeTempDirSync({ dir: TMP, prefix: "rast-term-" });
  const child = spawn(runArgs(dataDir, out, ["--num-runs", "10000"]), {
    RAST_FAKE_TOKEN_DELAY_MS: "1",
  });
  await holdsLock(runDirOf(out), child);
  // Decoding by now: the first sample is journalled.
  const journal = join(runDirOf(out), "journal.jsonl");
  // The lock is taken before the journal exists: wait for the file, then for its first line.
  while (!existsSync(journal) || !Deno.readTextFileSync(journal).includes("\n")) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const sent = performance.now();
  child.kill("SIGTERM");
  const r = await finish(child);
  const took = performance.now() - sent;
  assert.equal(r.code, 143, r.stderr);
  assert.ok(took < 1000, `ended ${Math.round(took)} ms after SIGTERM`);
  assert.match(r.stderr, /samples saved in .*; rerun the same command to do the rest/);
});

Deno.test("an --output-dir that is a file is one line, exit 2, before any model loads", async () => {
  const dataDir = makeDataDir(2);
  const file = join(TMP, "a-file");
  Deno.writeTextFileSync(file, "");
  const r = await finish(
    spawn(runArgs(dataDir, file), { RAST_ENGINE_MODULE: join(TMP, "no-engine-here.ts") }),
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^rast: .*Cannot create the run folder ".*": .*; pass an --output-dir/m);
});
