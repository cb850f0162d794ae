/**
 * The dataset registry and loader: the shipped datasets/ read with the harness's ground-truth rules
 * (expected golds are the authors' parse_ground_truth outputs for those rows), any JSONL with
 * named fields, line-numbered errors, and the hub download path with a fake fetch (no network).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DATASETS_DIR } from "./support/paths.ts";
import { loadDataset } from "../datasets/load.ts";
import { normalizeGold } from "../datasets/grading/gold.ts";
import { downloadDataset } from "../datasets/download.ts";
import { UserError } from "../engine/errors.ts";

/** name -> [rows, [row index, normalised gold, question prefix]...] */
const EXPECTED: Record<string, [number, [number, string, string][]]> = {
  math500: [500, [
    [0, "(3,\\frac{\\pi}{2})", "Convert the point $(0,3)$"],
    [1, "p-q", "Define\n\\[p = \\sum_{k = 1}"],
    [499, "106", "Altitudes $\\overline{AD}$"],
  ]],
  aime24: [30, [[0, "204", "Every morning Aya"], [29, "902", "There is a collection"]]],
  amc23: [40, [[0, "27", "Cities $A$ and $B$"], [39, "8", "What is the area"]]],
  minerva_math: [272, [[0, "1.6", "Each of the two Magellan"], [1, "4.5e33", "A white dwarf"]]],
  olympiadbench: [675, [[1, "\\frac{1}{2n+2}", "Given a positive integer"], [
    674,
    "11",
    "The sum",
  ]]],
  gsm8k: [1319, [[0, "18", "Janet’s ducks"], [1318, "14", "Henry and 3"]]],
};

Deno.test("registered datasets load in file order with the harness's golds", async () => {
  for (const [name, [count, samples]] of Object.entries(EXPECTED)) {
    const ds = await loadDataset(name, { dataDir: DATASETS_DIR });
    assert.equal(ds.name, name);
    assert.equal(ds.rows.length, count, name);
    ds.rows.forEach((row, i) => assert.equal(row.index, i));
    for (const [index, gold, question] of samples) {
      const row = ds.rows[index];
      assert.equal(normalizeGold(row.gold, name), gold, `${name}[${index}] gold`);
      assert.ok(row.question.startsWith(question), `${name}[${index}] question`);
    }
  }
});

Deno.test("raw golds keep what the rules read; fields keep the whole row", async () => {
  const math = await loadDataset("math500", { dataDir: DATASETS_DIR });
  assert.equal(math.rows[0].gold, "\\left( 3, \\frac{\\pi}{2} \\right)"); // last \boxed of solution
  assert.equal(math.rows[0].fields.subject, "Precalculus");
  assert.equal(math.rows[0].fields.level, 2);
  const gsm = await loadDataset("gsm8k", { dataDir: DATASETS_DIR });
  assert.equal(gsm.rows[0].gold, " 18"); // the text after ####
  const amc = await loadDataset("amc23", { dataDir: DATASETS_DIR });
  assert.equal(amc.rows[0].gold, "27"); // 27.0 means 27
});

Deno.test("RAST_DATA_DIR and paths to test.jsonl select the registry rules", async () => {
  Deno.env.set("RAST_DATA_DIR", DATASETS_DIR);
  try {
    assert.equal((await loadDataset("aime24")).rows.length, 30);
  } finally {
    Deno.env.delete("RAST_DATA_DIR");
  }
  const byPath = await loadDataset(join(DATASETS_DIR, "minerva_math", "test.jsonl"));
  assert.equal(byPath.name, "minerva_math");
  assert.equal(normalizeGold(byPath.rows[1].gold, byPath.name), "4.5e33");
});

Deno.test("any JSONL with named question and answer fields", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "mine.jsonl");
  await Deno.writeTextFile(
    file,
    '{"prompt": "What is 2+2?", "target": 4}\n\n{"prompt": "Half of 1?", "target": 0.5}\n',
  );
  const ds = await loadDataset(file, { questionField: "prompt", answerField: "target" });
  assert.equal(ds.name, "mine");
  assert.deepEqual(ds.rows.map((r) => [r.index, r.question, r.gold]), [
    [0, "What is 2+2?", "4"],
    [1, "Half of 1?", "0.5"],
  ]);
  await assert.rejects(() => loadDataset(file), /mine\.jsonl:1: no question field/);
});

Deno.test("malformed rows are reported with their line numbers", async () => {
  const dir = await Deno.makeTempDir();
  const write = async (name: string, text: string) => {
    await Deno.writeTextFile(join(dir, name), text);
    return join(dir, name);
  };
  const badJson = await write("a.jsonl", '{"question": "q", "answer": "1"}\n\n{"question": \n');
  await assert.rejects(() => loadDataset(badJson), /a\.jsonl:3: not valid JSON/);
  const notObject = await write("b.jsonl", "[1, 2]\n");
  await assert.rejects(() => loadDataset(notObject), /b\.jsonl:1: expected a JSON object/);
  const noAnswer = await write("c.jsonl", '{"question": "q", "answer": "1"}\n{"question": "q"}\n');
  await assert.rejects(() => loadDataset(noAnswer), /c\.jsonl:2: field "answer" is missing/);
  await Deno.mkdir(join(dir, "gsm8k"));
  await write("gsm8k/test.jsonl", '{"question": "q", "answer": "no marker"}\n');
  await assert.rejects(
    () => loadDataset("gsm8k", { dataDir: dir }),
    /test\.jsonl:1: field "answer" must contain "####" exactly once/,
  );
  await assert.rejects(() => loadDataset("math500", { dataDir: dir }), /is not in/);
  await assert.rejects(() => loadDataset("math5000"), UserError);
  await assert.rejects(() => loadDataset(join(dir, "missing.jsonl")), /does not exist/);
});

Deno.test("a UTF-8 byte-order mark is dropped; bytes that are not UTF-8 are refused by line", async () => {
  const dir = await Deno.makeTempDir();
  const bom = join(dir, "bom.jsonl");
  await Deno.writeTextFile(bom, '\uFEFF{"question": "q\u00e9", "answer": "1"}\n');
  const read = await loadDataset(bom);
  assert.deepEqual(read.rows.map((r) => [r.question, r.gold]), [["q\u00e9", "1"]]);
  const latin1 = join(dir, "latin1.jsonl");
  const row2 = new Uint8Array([...new TextEncoder().encode('{"question": "caf'), 0xe9]);
  await Deno.writeFile(
    latin1,
    new Uint8Array([
      ...new TextEncoder().encode('{"question": "q", "answer": "1"}\n'),
      ...row2,
      ...new TextEncoder().encode('", "answer": "2"}\n'),
    ]),
  );
  await assert.rejects(
    () => loadDataset(latin1),
    (err) =>
      err instanceof UserError && /latin1\.jsonl" line 2 is not UTF-8; convert/.test(err.message),
  );
  await Deno.remove(dir, { recursive: true });
});

const offline: typeof fetch = () => Promise.reject(new TypeError("fetch failed"));

function fakeHub(rows: Record<string, unknown>[], pageSize = 100): typeof fetch {
  return (input) => {
    const url = new URL(String(input));
    const offset = Number(url.searchParams.get("offset"));
    const page = rows.slice(offset, offset + pageSize).map((row) => ({ row }));
    const body = { rows: page, num_rows_total: rows.length };
    return Promise.resolve(new Response(JSON.stringify(body), { status: 200 }));
  };
}

Deno.test("hub download writes the rows in order into the cache, which loadDataset reads", async () => {
  const home = await Deno.makeTempDir();
  const rows = Array.from({ length: 150 }, (_, i) => ({
    problem: `p${i}`,
    solution: `so \\boxed{${i}}`,
  }));
  const path = await downloadDataset("math500", {
    repo: "HuggingFaceH4/MATH-500",
    config: "default",
    split: "test",
  }, { cacheDir: join(home, "cache"), fetch: fakeHub(rows) });
  const lines = (await Deno.readTextFile(path)).trim().split("\n");
  assert.equal(lines.length, 150);
  assert.deepEqual(JSON.parse(lines[149]), rows[149]);
  // with no data dir and no shipped copy, loadDataset reads the cache under HF_HOME, no fetch
  Deno.env.set("HF_HOME", home);
  Deno.env.delete("RAST_DATA_DIR");
  try {
    await Deno.mkdir(join(home, "rast", "datasets", "math500"), { recursive: true });
    await Deno.rename(path, join(home, "rast", "datasets", "math500", "test.jsonl"));
    const ds = await loadDataset("math500", { fetch: offline, shippedDir: join(home, "none") });
    assert.equal(ds.rows.length, 150);
    assert.equal(normalizeGold(ds.rows[7].gold, "math500"), "7");
  } finally {
    Deno.env.delete("HF_HOME");
  }
});

Deno.test("with no data dir, all six load offline from the shipped datasets/", async () => {
  const home = await Deno.makeTempDir();
  Deno.env.set("HF_HOME", home);
  Deno.env.delete("RAST_DATA_DIR");
  try {
    for (const [name, [count]] of Object.entries(EXPECTED)) {
      assert.equal((await loadDataset(name, { fetch: offline })).rows.length, count, name);
    }
    // an explicit data dir wins over the shipped copy
    await Deno.mkdir(join(home, "mine", "aime24"), { recursive: true });
    await Deno.writeTextFile(
      join(home, "mine", "aime24", "test.jsonl"),
      '{"problem": "q", "answer": "7"}\n',
    );
    const mine = await loadDataset("aime24", { dataDir: join(home, "mine"), fetch: offline });
    assert.deepEqual(mine.rows.map((r) => r.gold), ["7"]);
  } finally {
    Deno.env.delete("HF_HOME");
  }
});

Deno.test("offline with no shipped copy: a one-line error that names the fix", async () => {
  const home = await Deno.makeTempDir();
  Deno.env.set("HF_HOME", home);
  Deno.env.delete("RAST_DATA_DIR");
  const opts = { fetch: offline, shippedDir: join(home, "none") };
  try {
    const err = await loadDataset("aime24", opts).catch((e) => e);
    assert.ok(err instanceof UserError);
    assert.match(err.message, /^Cannot download dataset "aime24" from huggingface\.co/);
    assert.match(err.message, /--data-dir or set RAST_DATA_DIR/);
    assert.ok(!err.message.includes("\n"));
    // OlympiadBench has no hub copy: say where to put the file instead
    await assert.rejects(() => loadDataset("olympiadbench", opts), /no public copy/);
  } finally {
    Deno.env.delete("HF_HOME");
  }
});
