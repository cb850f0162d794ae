// The step debugger against the reference RAST continuation and hand-checked top-k maths.
import assert from "node:assert/strict";
import { join } from "node:path";
import { openEngine } from "../engine/mod.ts";
import { StepDebugger, topTokens } from "../engine/debugger.ts";
import { readSafetensors } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR } from "./support/paths.ts";
import { ints } from "./support/fixture_cases.ts";

Deno.test("topTokens: softmax probabilities after temperature, largest first", () => {
  const row = Float32Array.of(0, Math.log(3), Math.log(2), -Infinity);
  const top = topTokens(row, 2, 1, (id) => `t${id}`);
  assert.deepEqual(top.map((t) => t.id), [1, 2]);
  assert.ok(Math.abs(top[0].prob - 0.5) < 1e-6); // 3 / (1 + 3 + 2)
  assert.ok(Math.abs(top[1].prob - 1 / 3) < 1e-6);
  // T = 0.5 squares the odds: 9 / (1 + 9 + 4)
  assert.ok(Math.abs(topTokens(row, 1, 0.5, String)[0].prob - 9 / 14) < 1e-6);
});

Deno.test("stepping greedily reproduces the reference RAST ids with per-model top lists", async () => {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  const ids = (key: string) => ints(ref, key);
  const engine = await openEngine({
    baseModel: join(FIXTURES_DIR, "base"),
    pairs: [{
      positive: join(FIXTURES_DIR, "pos"),
      negative: join(FIXTURES_DIR, "neg"),
      weight: 1,
    }],
  });
  try {
    const dbg = new StepDebugger(engine, ids("prompt1.ids"), {
      temperature: 0,
      topP: 1,
      seed: 0,
      maxTokens: 24,
      k: 4,
    });
    const first = await dbg.step();
    assert.ok(first);
    // Greedy: the chosen token tops the combined list; combined excludes the padded tail.
    assert.equal(first.combined[0].id, first.chosen.id);
    assert.ok(first.combined.every((t) => t.id < 1152));
    assert.equal(first.pairs.length, 1);
    assert.equal(first.pairs[0].positive.length, 4);
    const rest = await dbg.toEnd();
    const all = [first, ...rest];
    assert.deepEqual(all.map((s) => s.chosen.id), ids("prompt1.rast_alpha1.0.greedy"));
    assert.equal(all[all.length - 1].finished, "length");
    assert.equal(await dbg.step(), null);
  } finally {
    engine.close();
  }
});
