/**
 * Stop ids as the models declare them. The set is the union of every model's
 * generation_config.json eos ids, the tokenizer's eos and, for chat prompts, the chat end token,
 * plus --stop-id; run.json records it. A greedy run of the tiny trio whose base
 * generation_config.json lists two eos ids stops on whichever comes first, on the tokens the same
 * run produces without them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openEngine } from "../engine/mod.ts";
import { Grader } from "../datasets/grading/grader.ts";
import { DEFAULT_STOP_STRINGS } from "../datasets/prompts.ts";
import { planRun, type RunConfig } from "../tui/runs/plan.ts";
import { startRun } from "../tui/runs/start.ts";
import { readRunRecord } from "../tui/runs/run_json.ts";
import { declaredStopIds, unreachableStopIds, unreachableStopWarning } from "../engine/stop_ids.ts";
import { FIXTURES_DIR } from "./support/paths.ts";
import { FLOAT32 } from "./support/fixture_cases.ts";

const TMP = Deno.makeTempDirSync({ prefix: "rast-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(TMP, { recursive: true }));

const write = (path: string, value: unknown) => Deno.writeTextFileSync(path, JSON.stringify(value));

Deno.test("the union of generation configs, tokenizer eos, chat end token and --stop-id", () => {
  const base = Deno.makeTempDirSync({ dir: TMP });
  const small = Deno.makeTempDirSync({ dir: TMP });
  write(join(base, "generation_config.json"), { eos_token_id: [9, 5] });
  write(join(base, "config.json"), { eos_token_id: 4 }); // generation_config.json wins
  write(join(small, "config.json"), { eos_token_id: 7 }); // no generation config: config.json's
  write(join(base, "tokenizer_config.json"), { eos_token: { content: "<|endoftext|>" } });
  write(join(base, "tokenizer.json"), {
    added_tokens: [{ id: 100, content: "<|endoftext|>" }, { id: 101, content: "<|im_end|>" }],
    model: { vocab: { "<|eot_id|>": 102 } },
  });
  const ids = (prompts: string[], extra: number[] = []) =>
    declaredStopIds({ baseDir: base, smallDirs: [small], prompts, extra });
  assert.deepEqual(ids(["Question:\n1+1\nAnswer:\n"]).map((s) => s.id), [5, 7, 9, 100]);
  assert.deepEqual(
    ids(["<|im_start|>user\n1+1<|im_end|>\n<|im_start|>assistant\n"], [3]),
    [
      { id: 3, source: "--stop-id" },
      { id: 5, source: "base eos_token_id" },
      { id: 7, source: "small model 1 eos_token_id" },
      { id: 9, source: "base eos_token_id" },
      { id: 100, source: "tokenizer eos <|endoftext|>" },
      { id: 101, source: "chat end <|im_end|>" },
    ],
  );
  assert.deepEqual(ids(["<|start_header_id|>user<|end_header_id|>"]).map((s) => s.id), [
    5,
    7,
    9,
    100,
    102,
  ]);
});

/** A copy of a fixture model (weights linked) whose generation_config.json lists `eos`. */
function withEos(model: string, eos: number[]): string {
  const dir = Deno.makeTempDirSync({ dir: TMP, prefix: `${model}-` });
  for (const e of Deno.readDirSync(join(FIXTURES_DIR, model))) {
    if (e.name !== "generation_config.json") {
      Deno.symlinkSync(join(FIXTURES_DIR, model, e.name), join(dir, e.name));
    }
  }
  write(join(dir, "generation_config.json"), { eos_token_id: eos });
  return dir;
}

Deno.test("a greedy run of the tiny trio stops on either eos id its generation config lists", async () => {
  const dataDir = Deno.makeTempDirSync({ dir: TMP });
  Deno.mkdirSync(join(dataDir, "gsm8k"));
  write(join(dataDir, "gsm8k", "test.jsonl"), { question: "Q", answer: "#### 1" });
  const bytes = (text: string) => [...new TextEncoder().encode(text)];
  const grader = new Grader({ workers: 1 });
  const config = (base: string, over: Partial<RunConfig> = {}): RunConfig => ({
    dataset: "gsm8k",
    dataDir,
    baseModel: base,
    pairs: [{
      positive: join(FIXTURES_DIR, "pos"),
      negative: join(FIXTURES_DIR, "neg"),
      weight: 1,
    }],
    temperature: 0,
    topP: 1,
    maxTokens: 24,
    numRuns: 1,
    seed: 0,
    promptTemplate: "abel",
    tensorParallelSize: 1,
    dtype: "float32",
    outputDir: Deno.makeTempDirSync({ dir: TMP }),
    ...over,
  });
  const engine = await openEngine({
    baseModel: join(FIXTURES_DIR, "base"),
    pairs: [{
      positive: join(FIXTURES_DIR, "pos"),
      negative: join(FIXTURES_DIR, "neg"),
      weight: 1,
    }],
    ...FLOAT32,
  });
  try {
    // the trajectory with only the small models' eos (1150), as every run below has it too
    const probePlan = await planRun(config(withEos("base", [1150])));
    let probe: number[] = [];
    for await (
      const e of engine.generate([{
        request: 0,
        promptIds: bytes(probePlan.prompts[0]),
        samples: 1,
        seed: 0,
      }], {
        temperature: 0,
        topP: 1,
        maxTokens: 24,
        stopIds: [1150],
      })
    ) if (e.kind === "finished") probe = e.tokens;
    const firsts = [...new Set(probe)].map((id) => ({ id, at: probe.indexOf(id) })).filter((t) =>
      t.at > 0
    );
    assert.ok(firsts.length >= 2, `the probe made too few distinct tokens: ${probe}`);
    const [early, late] = [firsts[0], firsts[firsts.length - 1]];
    const never = [...Array(1300).keys()].filter((id) => !probe.includes(id)).slice(0, 2);

    const run = async (eos: number[], over: Partial<RunConfig> = {}) => {
      const plan = await planRun(config(withEos("base", eos), over));
      const session = await startRun(plan, grader);
      for await (const _ of session.events(engine, { encode: bytes })) { /* journalled */ }
      const summary = await session.finish();
      const [record] = [...session.records.values()];
      return { plan, summary, record };
    };
    const a = await run([late.id, early.id]);
    const b = await run([never[0], late.id]);
    const c = await run(never, { stopIds: [early.id], stopStrings: ["####"] });
    assert.equal(a.record.reason, "stop");
    assert.equal(b.record.reason, "stop");
    // stopping at the first occurrence of each: the same offset from where it appears
    assert.equal(a.record.tokens - early.at, b.record.tokens - late.at);
    assert.ok(a.record.tokens - early.at === 0 || a.record.tokens - early.at === 1);
    assert.equal(c.record.tokens, a.record.tokens);
    assert.deepEqual(
      a.plan.record.settings.stopIds,
      [early.id, late.id, 1150].sort((x, y) => x - y),
    );
    assert.deepEqual(
      readRunRecord(c.plan.paths.runJson).settings.stopIds,
      [...never, early.id, 1150].sort((x, y) => x - y),
    );
    assert.deepEqual(c.plan.record.settings.stopStrings, [...DEFAULT_STOP_STRINGS, "####"]);
  } finally {
    engine.close();
    grader.close();
  }
});

Deno.test("stop ids in the padded vocab tail are named, with the engine's shared vocabulary as the bound", async () => {
  const dirs = ["base", "pos", "neg"].map((m) => join(FIXTURES_DIR, m));
  const ids = declaredStopIds({ baseDir: dirs[0], smallDirs: dirs.slice(1), prompts: [] });
  const engine = await openEngine({
    baseModel: dirs[0],
    pairs: [{ positive: dirs[1], negative: dirs[2], weight: 1 }],
    ...FLOAT32,
  });
  let shared: number;
  try {
    shared = (engine.vocab as { shared: number }).shared;
  } finally {
    engine.close();
  }
  // the tiny base declares eos 1278, above the small models' 1152 logits; their 1150 is reachable
  const expected = ids.filter((s) => s.id >= shared);
  assert.deepEqual(expected.map((s) => s.id), [1278]);
  assert.deepEqual(unreachableStopIds(ids, dirs), { ids: expected, shared });
  const warning = unreachableStopWarning(ids, dirs)!;
  assert.match(warning, /stop id 1278 \(base eos_token_id\) lies in the padded vocab tail/);
  assert.match(warning, /the other stop ids remain/);
  const only = unreachableStopWarning(expected, dirs)!;
  assert.match(only, /no stop id is left, so every sample runs to --max-tokens/);
  assert.equal(unreachableStopWarning(ids.filter((s) => s.id < shared), dirs), undefined);
});
