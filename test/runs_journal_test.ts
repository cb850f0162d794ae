import assert from "node:assert/strict";
import { join } from "node:path";
import { UserError } from "../engine/errors.ts";
import { writeTextAtomic } from "../tui/runs/atomic.ts";
import { Journal, readJournal, type SampleRecord } from "../tui/runs/journal.ts";

/** Every temporary folder of this file lives here and goes when the tests end. */
const TMP = Deno.makeTempDirSync({ prefix: "rast-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

function record(row: number, sample: number, output = `answer ${row}/${sample}`): SampleRecord {
  return {
    row,
    sample,
    output,
    reason: "stop",
    tokens: 3,
    verdict: {
      extracted: String(row),
      gold: String(row),
      correct: sample % 2 === 0,
      timeout: false,
    },
  };
}

Deno.test("journalled records survive a reopen, in order, with their text intact", () => {
  const path = join(Deno.makeTempDirSync({ dir: TMP }), "journal.jsonl");
  const journal = Journal.open(path);
  const written = [record(0, 0, "ünïcödé ✓ 数学 \\boxed{1}\n"), record(3, 1), record(0, 1)];
  for (const r of written) assert.equal(journal.append(r), true);
  journal.close();
  const reopened = Journal.open(path);
  assert.deepEqual([...reopened.records.values()], written);
  reopened.close();
  assert.equal(Deno.readTextFileSync(path).split("\n").length, 4);
});

Deno.test("a pair already journalled is not appended twice", () => {
  const path = join(Deno.makeTempDirSync({ dir: TMP }), "journal.jsonl");
  using journal = Journal.open(path);
  assert.equal(journal.append(record(1, 0)), true);
  assert.equal(journal.append(record(1, 0, "different text")), false);
  assert.equal(Deno.readTextFileSync(path).trim().split("\n").length, 1);
});

Deno.test("a torn last line (cut mid-append) is dropped and the next append starts clean", () => {
  const path = join(Deno.makeTempDirSync({ dir: TMP }), "journal.jsonl");
  const good = JSON.stringify(record(0, 0)) + "\n";
  const torn = JSON.stringify(record(1, 0)).slice(0, 25);
  Deno.writeTextFileSync(path, good + torn);
  const journal = Journal.open(path);
  assert.deepEqual([...journal.records.keys()], ["0:0"]);
  assert.equal(Deno.readTextFileSync(path), good, "the torn bytes are cut off on open");
  journal.append(record(1, 0));
  journal.close();
  assert.deepEqual([...readJournal(path).records.keys()], ["0:0", "1:0"]);
});

Deno.test("a garbage last line that did get its newline is dropped too", () => {
  const path = join(Deno.makeTempDirSync({ dir: TMP }), "journal.jsonl");
  const good = JSON.stringify(record(2, 5)) + "\n";
  Deno.writeTextFileSync(path, good + "\0\0\0\0\n");
  using journal = Journal.open(path);
  assert.deepEqual([...journal.records.keys()], ["2:5"]);
  assert.equal(Deno.readTextFileSync(path), good);
});

Deno.test("a corrupt line before the end is refused with its line number", () => {
  const path = join(Deno.makeTempDirSync({ dir: TMP }), "journal.jsonl");
  const line = (r: SampleRecord) => JSON.stringify(r) + "\n";
  Deno.writeTextFileSync(path, line(record(0, 0)) + '{"row": 1}\n' + line(record(2, 0)));
  assert.throws(
    () => Journal.open(path),
    (err) => err instanceof UserError && /line 2 is not a sample record/.test(err.message),
  );
});

Deno.test("a missing journal reads as empty and is created on open", () => {
  const path = join(Deno.makeTempDirSync({ dir: TMP }), "journal.jsonl");
  assert.equal(readJournal(path).records.size, 0);
  Journal.open(path).close();
  assert.equal(Deno.readTextFileSync(path), "");
});

Deno.test("writeTextAtomic replaces the content and leaves no temporary file", async () => {
  const dir = Deno.makeTempDirSync({ dir: TMP });
  const path = join(dir, "prediction-0.jsonl");
  await writeTextAtomic(path, "old\n");
  await writeTextAtomic(path, "new\n");
  assert.equal(Deno.readTextFileSync(path), "new\n");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["prediction-0.jsonl"]);
});
