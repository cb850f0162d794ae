// The paged KV cache end to end on the tiny trio: samples sharing prompt blocks at every block
// size, preemption that changes nothing, admission by free blocks, attention without padding.
import assert from "node:assert/strict";
import { join } from "node:path";
import { type EngineOptions, type OpenedEngine, openEngine } from "../engine/mod.ts";
import type { GenerateOptions, GenerateRequest } from "../engine/events.ts";
import { readSafetensors } from "../tui/checkpoints/safetensors.ts";
import { benchTrio } from "../engine/bench.ts";
import { FIXTURES_DIR } from "./support/paths.ts";
import { FLOAT32, ints } from "./support/fixture_cases.ts";
import { BLOCK_SIZES } from "./support/slots.ts";

const dir = (m: string) => join(FIXTURES_DIR, m);

function trio(options: Partial<EngineOptions> = {}): Promise<OpenedEngine> {
  return openEngine({
    baseModel: dir("base"),
    pairs: [{ positive: dir("pos"), negative: dir("neg"), weight: 1 }],
    ...FLOAT32,
    ...options,
  });
}

/** Every sample's tokens by "request/sample"; fails on an error event. */
async function run(engine: OpenedEngine, requests: GenerateRequest[], options: GenerateOptions) {
  const out = new Map<string, number[]>();
  for await (const e of engine.generate(requests, options)) {
    assert.notEqual(e.kind, "error", JSON.stringify(e));
    if (e.kind === "finished") out.set(`${e.request}/${e.sample}`, e.tokens);
  }
  return out;
}

Deno.test(`samples sharing their prompt's blocks decode the reference RAST greedy ids at block sizes ${BLOCK_SIZES}`, async () => {
  const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
  for (const blockSize of BLOCK_SIZES) {
    const engine = await trio({ blockSize });
    try {
      // Prompts of 7, 13 and 1 tokens: prefixes that end inside a block, on a boundary (block
      // size 1, 4...) and empty; 3 samples each share the prefix and copy its last block.
      const requests = [0, 1, 2].map((p) => ({
        request: p,
        promptIds: ints(ref, `prompt${p}.ids`),
        samples: 3,
        seed: 1,
      }));
      const got = await run(engine, requests, { temperature: 0, topP: 1, maxTokens: 24 });
      for (let p = 0; p < 3; p++) {
        const expected = ints(ref, `prompt${p}.rast_alpha1.0.greedy`);
        for (let s = 0; s < 3; s++) {
          assert.deepEqual(got.get(`${p}/${s}`), expected, `block size ${blockSize}, ${p}/${s}`);
        }
      }
      assert.ok(engine.decoder.counters.prefillCalls <= 2, "the prompts prefill together");
    } finally {
      engine.close();
    }
  }
});

Deno.test("a pool too small for all samples preempts and resumes them, token for token the same", async () => {
  const requests = [
    { request: 0, promptIds: [5, 17, 300, 42, 999, 7, 1100], samples: 4, seed: 7 },
    { request: 1, promptIds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], samples: 3, seed: 9 },
  ];
  const options = { temperature: 1, topP: 0.95, maxTokens: 40 };
  const free = await trio({ deterministic: true, blockSize: 4 });
  let reference: Map<string, number[]>;
  try {
    reference = await run(free, requests, options);
    assert.equal(free.decoder.counters.preemptions, 0);
  } finally {
    free.close();
  }
  // 53 positions need 14 blocks of 4: a pool of 20 holds one long sequence and a bit.
  const bytesPerBlock = 4 * 3072;
  // deviceFeed: pipelined steps fed on the device, as on a GPU, where a sequence preempted for
  // the next step still has its last token on the way.
  for (const deviceFeed of [false, true]) {
    const tight = await trio({
      deterministic: true,
      blockSize: 4,
      kvMemoryBytes: 20 * bytesPerBlock,
      deviceFeed,
    });
    try {
      const got = await run(tight, requests, options);
      assert.equal(tight.decoder.pool?.blocks, 20);
      assert.ok(tight.decoder.counters.preemptions > 0, "the tiny pool forced preemption");
      assert.deepEqual(got, reference, `deviceFeed ${deviceFeed}`);
    } finally {
      tight.close();
    }
  }
});

Deno.test("samples resumed from a checkpoint of their first k tokens finish as uninterrupted ones do", async () => {
  const request = { request: 0, promptIds: [5, 17, 300, 42, 999, 7, 1100], samples: 5, seed: 3 };
  const options = { temperature: 1, topP: 0.95, maxTokens: 40 };
  const engine = await trio({ deterministic: true, blockSize: 4 });
  try {
    const reference = await run(engine, [request], options);
    // Cut points: one token, inside a block, on a block boundary, and the whole sample.
    const cuts = [1, 6, 8, 23, reference.get("0/4")!.length];
    const resume = new Map(cuts.map((k, s) => [s, reference.get(`0/${s}`)!.slice(0, k)]));
    const started: number[] = [];
    const got = new Map<string, number[]>();
    const decodedBefore = engine.decoder.counters.decodeTokens;
    for await (const e of engine.generate([{ ...request, resume }], options)) {
      assert.notEqual(e.kind, "error", JSON.stringify(e));
      if (e.kind === "started") started.push(e.sample);
      if (e.kind === "finished") got.set(`${e.request}/${e.sample}`, e.tokens);
    }
    assert.deepEqual(started.sort(), [0, 1, 2, 3, 4], "every resumed sample is announced");
    assert.deepEqual(got, reference);
    // Only the tokens after each cut were decoded.
    const left = cuts.reduce((n, k, s) => n + reference.get(`0/${s}`)!.length - k, 0);
    assert.equal(engine.decoder.counters.decodeTokens - decodedBefore, left);
  } finally {
    engine.close();
  }
});

Deno.test("with the memory of 4 fixed 16k slots, short answers run at least 10x as many sequences at once", async () => {
  const prompt = [5, 17, 300, 42, 999, 7, 1100];
  const maxTokens = 16384;
  const notices: string[] = [];
  const engine = await trio({
    // Today's slots: prompt + max tokens positions each, 3,072 bytes a position for the trio.
    kvMemoryBytes: 4 * (prompt.length + maxTokens) * 3072,
    blockSize: 16,
    onNotice: (m) => notices.push(m),
  });
  try {
    // Half of the vocab ends an answer: answers of a few tokens, as most real ones are short
    // against the 16k limit.
    const stopIds = Array.from({ length: 576 }, (_, i) => i * 2);
    const got = await run(engine, [{ request: 0, promptIds: prompt, samples: 64, seed: 3 }], {
      temperature: 1,
      topP: 1,
      maxTokens,
      stopIds,
    });
    assert.equal(got.size, 64);
    assert.ok(
      engine.decoder.counters.peakBatch >= 40,
      `peak batch ${engine.decoder.counters.peakBatch}`,
    );
    assert.ok(notices.some((n) => /^KV pool: \d+ blocks of 16/.test(n)), notices.join("\n"));
    assert.ok(notices.some((n) => /at most \d+ sequences in one step/.test(n)));
  } finally {
    engine.close();
  }
});

Deno.test("one sequence at a time still runs every sample", async () => {
  const engine = await trio({ maxConcurrent: 1 });
  try {
    const got = await run(engine, [{ request: 0, promptIds: [640], samples: 2, seed: 1 }], {
      temperature: 1,
      topP: 1,
      maxTokens: 5,
    });
    assert.deepEqual([...got.keys()].sort(), ["0/0", "0/1"]);
    assert.equal(engine.decoder.counters.peakBatch, 1);
  } finally {
    engine.close();
  }
});

Deno.test("attention reads only live KV: kv_read_ratio of a ragged batch (contexts 10x apart) is 1", async () => {
  const engine = await trio();
  try {
    const { base, pairs } = engine.models;
    const layers = [base, pairs[0].positive, pairs[0].negative].reduce(
      (n, m) => n + m.info.layers,
      0,
    );
    const r = await benchTrio(engine.decoder.group, {
      batch: 8,
      contexts: [20, 200],
      steps: 2,
      layers,
    });
    assert.deepEqual(r.contexts, [20, 200]);
    assert.ok(r.kv_read_ratio <= 1.05, `kv_read_ratio ${r.kv_read_ratio}`);
    assert.ok(r.kv_read_ratio >= 1, `kv_read_ratio ${r.kv_read_ratio}`);
    assert.ok(r.ops_per_step > 0, "operators were counted");
    assert.ok(r.blocking_copies_per_step >= 1, "the sampled ids come back");
  } finally {
    engine.close();
  }
});
