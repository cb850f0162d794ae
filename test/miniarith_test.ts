/**
 * The shipped miniarith set and trio against the Python reference stack that trained them
 * (test/miniarith_reference.json, written by scripts/mini_repro/reference.py): the registered
 * dataset loads from the repository, the engine's tokenizer gives Hugging Face tokenizers' ids,
 * the engine's logits are transformers' within 1e-4, and the grader's verdict is the RL reward.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Grader } from "../datasets/grading/mod.ts";
import { loadDataset } from "../datasets/load.ts";
import { renderPrompt } from "../datasets/prompts.ts";
import { Model } from "../engine/model.ts";
import { Tokenizer } from "../engine/tokenizer.ts";
import { MINIARITH_MODELS, MINIARITH_PROMPT } from "../datasets/miniarith.ts";
import { promptLogits } from "./support/fixture_cases.ts";
import { maxRelError } from "./support/numeric.ts";
import { REPO_ROOT } from "./support/paths.ts";
import { FLOAT32 } from "./support/fixture_cases.ts";

interface Reference {
  tokens: { text: string; ids: number[] }[];
  logits: Record<string, { ids: number[]; lastLogits: number[] }[]>;
  rewards: { completion: string; answer: string; reward: number }[];
}

const REFERENCE: Reference = JSON.parse(
  Deno.readTextFileSync(join(REPO_ROOT, "test", "miniarith_reference.json")),
);

Deno.test("miniarith is registered and loads from the repository with no data dir", async () => {
  const previous = Deno.env.get("RAST_DATA_DIR");
  Deno.env.set("RAST_DATA_DIR", join(REPO_ROOT, "no-such-folder"));
  try {
    const ds = await loadDataset("miniarith");
    assert.equal(ds.name, "miniarith");
    assert.equal(ds.rows.length, 300);
    assert.ok(ds.rows.every((r) => /^\d+$/.test(r.gold) && r.question.endsWith(" now?")));
    assert.equal(new Set(ds.rows.map((r) => r.question)).size, 300, "no repeated question");
  } finally {
    if (previous === undefined) Deno.env.delete("RAST_DATA_DIR");
    else Deno.env.set("RAST_DATA_DIR", previous);
  }
});

Deno.test("the trio's prompts render as the training script wrote them", async () => {
  const ds = await loadDataset("miniarith");
  const prompt = await renderPrompt(MINIARITH_PROMPT, ds.rows[0].question);
  assert.equal(prompt, REFERENCE.tokens[0].text);
});

Deno.test("the engine's tokenizer gives Hugging Face tokenizers' ids, and decodes back", async () => {
  for (const dir of Object.values(MINIARITH_MODELS)) {
    const tokenizer = (await Tokenizer.fromModelDir(dir))!;
    for (const { text, ids } of REFERENCE.tokens) {
      assert.deepEqual(tokenizer.encode(text), ids, text);
      assert.equal(tokenizer.decode(ids), text);
    }
  }
});

Deno.test("the engine's last-position logits are transformers' within 1e-4", async () => {
  for (const [name, cases] of Object.entries(REFERENCE.logits)) {
    using model = await Model.load(MINIARITH_MODELS[name as "base"], FLOAT32);
    for (const { ids, lastLogits } of cases) {
      const all = await promptLogits(model, ids);
      const last = all.subarray(all.length - model.vocab);
      const err = maxRelError(last, Float32Array.from(lastLogits));
      assert.ok(err < 1e-4, `${name}: relative error ${err}`);
    }
  }
});

Deno.test("the grader's verdicts are the RL reward the positive was trained on", async () => {
  const grader = new Grader({});
  try {
    for (const { completion, answer, reward } of REFERENCE.rewards) {
      const verdict = await grader.grade(completion, answer, "miniarith");
      assert.equal(verdict.correct, reward === 1, completion);
    }
  } finally {
    grader.close();
  }
});
