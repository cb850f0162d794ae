/**
 * Shard selection (tui/runs/shards.ts): "i/N" and the Slurm array variables, checked against
 * hand-written cases; the contiguous split against a brute-force check that every row of every
 * window size lands in exactly one shard, in order, with sizes differing by at most one.
 */
import assert from "node:assert/strict";
import { UserError } from "../engine/errors.ts";
import { checkRunFolder } from "../tui/runs/run_json.ts";
import { parseShard, resolveShard, shardFromSlurm, shardSlice } from "../tui/runs/shards.ts";

const env = (vars: Record<string, string>) => ({ get: (name: string) => vars[name] });

Deno.test("--shard i/N parses; out-of-range and malformed values are one-line UserErrors", () => {
  assert.deepEqual(parseShard("0/4"), { index: 0, count: 4 });
  assert.deepEqual(parseShard(" 3 / 4 "), { index: 3, count: 4 });
  for (const bad of ["4/4", "1/0", "-1/4", "1", "a/b", "1/4/2", "1.5/4"]) {
    assert.throws(
      () => parseShard(bad),
      (err) => err instanceof UserError && !/\n/.test(err.message),
      bad,
    );
  }
});

Deno.test("the Slurm array task's shard counts from SLURM_ARRAY_TASK_MIN", () => {
  assert.equal(shardFromSlurm(env({})), undefined);
  assert.deepEqual(
    shardFromSlurm(env({ SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "3" })),
    { index: 2, count: 3 },
  );
  // --array=5-8: tasks 5..8 are shards 0..3.
  assert.deepEqual(
    shardFromSlurm(
      env({ SLURM_ARRAY_TASK_ID: "7", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "5" }),
    ),
    { index: 2, count: 4 },
  );
  assert.throws(
    () => shardFromSlurm(env({ SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_COUNT: "4" })),
    UserError,
  );
  assert.throws(
    () => shardFromSlurm(env({ SLURM_ARRAY_TASK_ID: "x", SLURM_ARRAY_TASK_COUNT: "4" })),
    UserError,
  );
  // --shard wins over the environment.
  const slurm = env({ SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "2" });
  assert.deepEqual(resolveShard("0/3", slurm), { index: 0, count: 3 });
  assert.deepEqual(resolveShard(undefined, slurm), { index: 1, count: 2 });
});

Deno.test("contiguous shards cover every row once, in order, sizes within one of each other", () => {
  // Hand-checked: 5 rows in 3 shards are rows 0 | 1 2 | 3 4.
  assert.deepEqual(
    [0, 1, 2].map((index) => shardSlice(5, { index, count: 3 })),
    [{ start: 0, end: 1 }, { start: 1, end: 3 }, { start: 3, end: 5 }],
  );
  for (let rows = 1; rows <= 40; rows++) {
    for (let count = 1; count <= 12; count++) {
      const seen: number[] = [];
      const sizes: number[] = [];
      for (let index = 0; index < count; index++) {
        const { start, end } = shardSlice(rows, { index, count });
        for (let r = start; r < end; r++) seen.push(r);
        sizes.push(end - start);
      }
      assert.deepEqual(seen, Array.from({ length: rows }, (_, i) => i), `${rows} rows, ${count}`);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${rows} rows, ${count} shards`);
    }
  }
});

Deno.test("a shard starting while another writes run.json sees an empty folder, not foreign files", () => {
  const dir = Deno.makeTempDirSync({ prefix: "rast-shards-folder-" });
  try {
    // what the first shard leaves for a moment: its lock, and run.json on its way through
    // writeRunRecordOnce (a temporary of a temporary)
    Deno.writeTextFileSync(`${dir}/lock.shard-1-of-3`, "");
    Deno.writeTextFileSync(`${dir}/run.json.tmp-4242.tmp-4242`, "{");
    const settings = {} as unknown as Parameters<typeof checkRunFolder>[1];
    assert.equal(checkRunFolder(dir, settings), undefined);
    Deno.writeTextFileSync(`${dir}/journal.jsonl`, "");
    assert.throws(() => checkRunFolder(dir, settings), /has files but no run\.json/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
