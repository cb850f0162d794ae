/**
 * `rast debug` as a user meets it (a subprocess of main.ts, stdout not a terminal so it runs to
 * the end): on the tiny fixtures, greedy, the trace holds one record per step whose chosen ids are
 * the reference RAST continuation; bad input exits 2 with one line and writes no trace.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readSafetensors } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR, REPO_ROOT } from "./support/paths.ts";
import { ints } from "./support/fixture_cases.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-debug-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

const MODELS = [
  "--base-model",
  join(FIXTURES_DIR, "base"),
  "--positive-model",
  join(FIXTURES_DIR, "pos"),
  "--negative-model",
  join(FIXTURES_DIR, "neg"),
];

async function rast(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", join(REPO_ROOT, "main.ts"), ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

async function referenceIds(key: string): Promise<number[]> {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  return ints(ref, key);
}

Deno.test("debug --tokens on the fixtures: greedy steps match the reference RAST ids, one trace line each", async () => {
  const prompt = await referenceIds("prompt0.ids");
  const expected = await referenceIds("prompt0.rast_alpha1.0.greedy");
  const trace = join(TMP, "steps.jsonl");
  const out = await rast([
    "debug",
    ...MODELS,
    "--alpha",
    "1",
    "--tokens",
    prompt.join(","),
    "--temperature",
    "0",
    "--max-tokens",
    String(expected.length),
    "--show",
    "4",
    "--trace",
    trace,
  ]);
  assert.equal(out.code, 0, out.stderr);
  const records = Deno.readTextFileSync(trace).trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(records.length, expected.length);
  assert.deepEqual(records.map((r) => r.chosen.id), expected);
  assert.deepEqual(records.map((r) => r.step), expected.map((_, i) => i));
  assert.equal(records[records.length - 1].finished, "length");
  for (const r of records) {
    // Greedy: the chosen token tops the combined list; each list has --show entries.
    assert.equal(r.combined[0].id, r.chosen.id);
    assert.equal(r.base.length, 4);
    assert.equal(r.pairs.length, 1);
    assert.equal(r.pairs[0].weight, 1);
  }
  // The table: a header, one line per step starting with its step number and chosen id.
  const lines = out.stdout.split("\n");
  assert.match(lines[0], /^ step +id +token/);
  for (const [i, id] of expected.entries()) {
    assert.match(lines[i + 1], new RegExp(`^ +${i} +${id} `));
  }
  assert.ok(lines[expected.length].endsWith("[length]"));
  assert.ok(lines[expected.length + 1].startsWith(`answer (length, ${expected.length} tokens)`));
});

Deno.test("debug rejects bad input with one line, exit 2, and writes no trace", async () => {
  const trace = join(TMP, "never.jsonl");
  const cases: [string[], RegExp][] = [
    [["--tokens", "5,x,7"], /--tokens "5,x,7" is not a comma-separated list of ids/],
    [["--question", "What is 2+3?"], /has no tokenizer\.json.*pass the prompt as --tokens/],
    [["--tokens", "5,99999"], /Prompt token id 99999 is outside the models' vocabulary/],
    [["--tokens", "5", "--question", "Q"], /Pass only one: pass one of --question/],
    [["--tokens", "5", "--temperature", "hot"], /--temperature "hot" is not a number/],
  ];
  for (const [args, message] of cases) {
    const out = await rast(["debug", ...MODELS, "--trace", trace, ...args]);
    assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
    const errorLines = out.stderr.trim().split("\n");
    assert.equal(errorLines.length, 1, out.stderr);
    assert.match(errorLines[0], message);
    assert.ok(!existsSync(trace), `${args.join(" ")} wrote a trace`);
  }
  const missing = await rast(["debug", "--base-model", join(TMP, "nope"), "--tokens", "5"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Model folder ".*nope" does not exist/);
  const noFolder = await rast(["debug", ...MODELS, "--tokens", "5", "--trace", "/no/such/t.jsonl"]);
  assert.equal(noFolder.code, 2);
  assert.match(noFolder.stderr, /folder "\/no\/such" does not exist/);
});
