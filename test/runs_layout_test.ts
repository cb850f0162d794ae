import assert from "node:assert/strict";
import { UserError } from "../engine/errors.ts";
import { formatPyFloat, runFolderName, windowOf } from "../tui/runs/layout.ts";
import { settingsDifference } from "../tui/runs/run_json.ts";
import { rowSeed } from "../tui/runs/seeds.ts";

Deno.test("numbers in folder names read as Python's str(float)", () => {
  // Each pair is (value, what `python3 -c "print(str(float(v)))"` prints).
  const cases: [number, string][] = [
    [1, "1.0"],
    [0, "0.0"],
    [0.5, "0.5"],
    [0.1, "0.1"],
    [-0.3, "-0.3"],
    [0.6, "0.6"],
    [1.25, "1.25"],
    [0.0001, "0.0001"],
    [0.00012, "0.00012"],
    [1e-5, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [123456, "123456.0"],
    [1e15, "1000000000000000.0"],
    [1e16, "1e+16"],
    [2.5e16, "2.5e+16"],
  ];
  for (const [value, python] of cases) assert.equal(formatPyFloat(value), python, `${value}`);
});

Deno.test("the run folder follows <base>_<neg>_alpha_<a>_temp_<t>", () => {
  assert.equal(
    runFolderName("Qwen2.5-14B", [{ negative: "Qwen2.5-1.5B", weight: 1 }], 1),
    "Qwen2.5-14B_Qwen2.5-1.5B_alpha_1.0_temp_1.0",
  );
  assert.equal(
    runFolderName("base", [{ negative: "n1", weight: 0.4 }, { negative: "n2", weight: 0.1 }], 0.6),
    "base_n1+n2_alpha_0.4+0.1_temp_0.6",
  );
  assert.equal(runFolderName("base", [], 0), "base_none_alpha_0.0_temp_0.0");
});

Deno.test("the row window honours --start, --end and --limit, and refuses empty windows", () => {
  assert.deepEqual(windowOf(500, {}), { start: 0, end: 500 });
  assert.deepEqual(windowOf(500, { start: 10, end: 20 }), { start: 10, end: 20 });
  assert.deepEqual(windowOf(500, { start: 10, limit: 5 }), { start: 10, end: 15 });
  assert.deepEqual(windowOf(30, { limit: 100 }), { start: 0, end: 30 });
  const refused = (opts: { start?: number; end?: number }, pattern: RegExp) =>
    assert.throws(
      () => windowOf(30, opts),
      (e) => e instanceof UserError && pattern.test(e.message),
    );
  refused({ start: 30 }, /--start 30 is past/);
  refused({ end: 31 }, /--end 31 is past the dataset's 30 rows/);
  refused({ start: 5, end: 5 }, /--end 5 is not after --start 5/);
});

Deno.test("settingsDifference names the first differing setting with both values", () => {
  const a = {
    temperature: 1,
    pairs: [{ weight: 1, negative: { path: "/m/neg" } }],
    stop: ["</s>"],
  };
  assert.equal(settingsDifference(a, structuredClone(a)), undefined);
  assert.equal(settingsDifference(a, { ...a, temperature: 0.6 }), "temperature: 1 there, 0.6 here");
  assert.equal(
    settingsDifference(a, { ...a, pairs: [{ weight: 0.5, negative: { path: "/m/neg" } }] }),
    "pairs[0].weight: 1 there, 0.5 here",
  );
  assert.equal(
    settingsDifference(a, { ...a, stop: ["</s>", "user"] }),
    'stop: ["</s>"] there, ["</s>","user"] here',
  );
  assert.equal(
    settingsDifference({ x: 1 }, { x: 1, y: 2 }),
    "y: unset there, 2 here",
  );
});

Deno.test("row seeds are deterministic, differ across rows and across base seeds", () => {
  assert.equal(rowSeed(0, 7), rowSeed(0, 7));
  const seeds = new Set<number>();
  for (let row = 0; row < 5000; row++) seeds.add(rowSeed(0, row));
  assert.equal(seeds.size, 5000);
  for (let row = 0; row < 100; row++) assert.notEqual(rowSeed(0, row), rowSeed(1, row));
  for (let row = 0; row < 100; row++) {
    const seed = rowSeed(42, row);
    assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
  }
});
