// The RAST decoder's event stream: prefix sharing, seeded determinism, sampling distribution.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type OpenedEngine, openEngine, vocabNotice } from "../engine/mod.ts";
import type { VocabReport } from "../engine/tokenizer.ts";
import type { EngineEvent, GenerateOptions, GenerateRequest } from "../engine/events.ts";
import { readSafetensors, toFloat32 } from "../tui/checkpoints/safetensors.ts";
import { FIXTURES_DIR } from "./support/paths.ts";
import { FLOAT32 } from "./support/fixture_cases.ts";
import { assertChiSquare, expectedDistribution } from "./support/chi_square.ts";

const dir = (m: string) => join(FIXTURES_DIR, m);
const PROMPT0 = [5, 17, 300, 42, 999, 7, 1100];

function trio(alpha = 1, maxConcurrent = 64): Promise<OpenedEngine> {
  return openEngine({
    baseModel: dir("base"),
    pairs: [{ positive: dir("pos"), negative: dir("neg"), weight: alpha }],
    maxConcurrent,
    ...FLOAT32,
  });
}

async function collect(
  engine: OpenedEngine,
  requests: GenerateRequest[],
  options: GenerateOptions,
) {
  const events: EngineEvent[] = [];
  for await (const e of engine.generate(requests, options)) events.push(e);
  const errors = events.filter((e) => e.kind === "error");
  assert.deepEqual(errors, []);
  const finished = new Map<string, number[]>();
  for (const e of events) {
    if (e.kind === "finished") finished.set(`${e.request}/${e.sample}`, e.tokens);
  }
  return { events, finished };
}

Deno.test("32 samples of one prompt share one prefill", async () => {
  const engine = await trio();
  try {
    const { finished } = await collect(engine, [
      { request: 0, promptIds: PROMPT0, samples: 32, seed: 3 },
    ], { temperature: 1, topP: 0.95, maxTokens: 4 });
    assert.equal(finished.size, 32);
    assert.equal(engine.decoder.counters.prefillCalls, 1);
    assert.equal(engine.decoder.counters.prefillTokens, PROMPT0.length - 1);
    // Each sample fed the prompt's last token once, then 3 more tokens.
    assert.equal(engine.decoder.counters.decodeTokens, 32 * 4);
  } finally {
    engine.close();
  }
});

Deno.test("a seed gives the same tokens alone and inside a mixed batch", async () => {
  const engine = await trio(1, 8);
  try {
    const options = { temperature: 1, topP: 0.95, maxTokens: 12 };
    const alone = await collect(
      engine,
      [{ request: 0, promptIds: PROMPT0, samples: 2, seed: 7 }],
      options,
    );
    const mixed = await collect(engine, [
      { request: 5, promptIds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], samples: 5, seed: 11 },
      { request: 0, promptIds: PROMPT0, samples: 2, seed: 7 },
      { request: 6, promptIds: [640], samples: 3, seed: 12 },
    ], options);
    assert.deepEqual(mixed.finished.get("0/0"), alone.finished.get("0/0"));
    assert.deepEqual(mixed.finished.get("0/1"), alone.finished.get("0/1"));
    assert.notDeepEqual(alone.finished.get("0/0"), alone.finished.get("0/1"));
    assert.equal(mixed.finished.size, 10);
  } finally {
    engine.close();
  }
});

Deno.test("stop ids and max new tokens end samples with their reason", async () => {
  const engine = await trio();
  try {
    const greedy = await collect(
      engine,
      [{ request: 0, promptIds: PROMPT0, samples: 1, seed: 1 }],
      {
        temperature: 0,
        topP: 1,
        maxTokens: 6,
      },
    );
    const tokens = greedy.finished.get("0/0")!;
    assert.equal(tokens.length, 6);
    const stopId = tokens[3];
    const stopped = await collect(
      engine,
      [{ request: 0, promptIds: PROMPT0, samples: 1, seed: 1 }],
      {
        temperature: 0,
        topP: 1,
        maxTokens: 6,
        stopIds: [stopId],
      },
    );
    const end = stopped.events.find((e) => e.kind === "finished");
    assert.ok(end?.kind === "finished");
    assert.equal(end.reason, "stop");
    assert.deepEqual(end.tokens, tokens.slice(0, tokens.indexOf(stopId) + 1));
  } finally {
    engine.close();
  }
});

Deno.test("cancelling stops every sample with reason cancelled", async () => {
  const engine = await trio();
  try {
    const controller = new AbortController();
    const reasons: string[] = [];
    for await (
      const e of engine.generate([{ request: 0, promptIds: PROMPT0, samples: 3, seed: 1 }], {
        temperature: 1,
        topP: 1,
        maxTokens: 50,
        signal: controller.signal,
      })
    ) {
      if (e.kind === "token" && e.sample === 0 && !controller.signal.aborted) controller.abort();
      if (e.kind === "finished") reasons.push(e.reason);
    }
    assert.deepEqual(reasons, ["cancelled", "cancelled", "cancelled"]);
  } finally {
    engine.close();
  }
});

for (const temperature of [0.7, 1.0]) {
  for (const topP of [0.95, 1.0]) {
    Deno.test(`first-token frequencies follow softmax(top-p(z) / T) at T=${temperature} p=${topP}`, async () => {
      const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
      const expected = expectedDistribution(
        toFloat32(ref.get("prompt0.rast_alpha1.0.step0_logits")!),
        temperature,
        topP,
      );
      const engine = await trio(1, 512);
      try {
        const N = 20000;
        const { finished } = await collect(engine, [
          { request: 0, promptIds: PROMPT0, samples: N, seed: 2024 },
        ], { temperature, topP, maxTokens: 1 });
        const counts = new Float64Array(expected.length);
        for (const tokens of finished.values()) counts[tokens[0]]++;
        assertChiSquare(counts, expected, N);
      } finally {
        engine.close();
      }
    });
  }
}

Deno.test("a stop string cuts the text where it starts", async () => {
  const engine = await trio();
  try {
    const options = { temperature: 0, topP: 1, maxTokens: 8 };
    const request = { request: 0, promptIds: PROMPT0, samples: 1, seed: 1 };
    const full = (await collect(engine, [request], options)).events.find((e) =>
      e.kind === "finished"
    );
    assert.ok(full?.kind === "finished");
    // Without a tokenizer the text is the ids joined by spaces; stop on the third id.
    const stop = ` ${full.tokens[2]}`;
    const cut = (await collect(engine, [request], { ...options, stopStrings: [stop] })).events
      .find((e) => e.kind === "finished");
    assert.ok(cut?.kind === "finished");
    assert.equal(cut.reason, "stop");
    assert.equal(cut.text, full.text.slice(0, full.text.indexOf(stop)));
  } finally {
    engine.close();
  }
});

Deno.test("the KV memory limit bounds the block pool, and a limit below one sequence is refused", async () => {
  const engine = await openEngine({
    baseModel: dir("base"),
    pairs: [{ positive: dir("pos"), negative: dir("neg"), weight: 1 }],
    ...FLOAT32,
    // base: 2·4 layers·2 kv heads·32·4 B; pos, neg: 2·2·2·16·4 B → 2048 + 2·512 = 3072 B/position.
    kvMemoryBytes: 3072 * 20 * 3,
    blockSize: 16,
  });
  try {
    const { events } = await collect(engine, [
      { request: 0, promptIds: PROMPT0, samples: 6, seed: 1 },
    ], { temperature: 1, topP: 1, maxTokens: 13 });
    // 3 blocks of 16 positions; a sequence of 20 positions needs 2, so samples take turns
    // (preempted and resumed); all 6 still finish.
    assert.equal(events.filter((e) => e.kind === "finished").length, 6);
    assert.equal(engine.decoder.pool?.blocks, 3);
    const failing = engine.generate([{ request: 0, promptIds: PROMPT0, samples: 1, seed: 1 }], {
      temperature: 1,
      topP: 1,
      maxTokens: 100,
    });
    await assert.rejects(async () => {
      for await (const _ of failing) { /* drain */ }
    }, /holds 3 blocks of 16 positions, but one sequence of 107 positions needs 7/);
  } finally {
    engine.close();
  }
});

Deno.test("opening a trio reports the vocab sizes and the padded tail", async () => {
  const notices: string[] = [];
  const engine = await openEngine({
    baseModel: dir("base"),
    pairs: [{ positive: dir("pos"), negative: dir("neg"), weight: 1 }],
    onNotice: (m) => notices.push(m),
  });
  engine.close();
  assert.deepEqual(notices, [
    "vocab: base 1280 logits, shared 1152; ids 1152..1279 (128) are padding, never sampled; " +
    "no tokenizer.json: prompts are token ids",
  ]);
});

Deno.test("a small model without tokenizer.json is named as unchecked, not counted as agreeing", () => {
  const group = { sharedVocab: 1152, baseVocab: 1152 };
  const agreed = { checkedIds: 1152 } as VocabReport;
  assert.equal(
    vocabNotice(group, true, [agreed], ["/m/neg"]),
    "vocab: base 1152 logits, shared 1152; no padded tail; small-model tokenizers agree with " +
      'the base on 1152 ids; not checked: "/m/neg" has no tokenizer.json (its ids are taken as ' +
      "the base's)",
  );
  assert.doesNotMatch(vocabNotice(group, true, [], ["/m/pos", "/m/neg"]), /agree/);
});
