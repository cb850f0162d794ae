import assert from "node:assert/strict";
import { join } from "node:path";
import { checkVocabCompatible, StreamingDecoder, Tokenizer } from "../engine/tokenizer.ts";
import { qwenTokenizerDir } from "../tui/checkpoints/qwen_tokenizer_files.ts";
import { UserError } from "../engine/errors.ts";

const qwen = (await Tokenizer.fromModelDir(qwenTokenizerDir()))!;

/** Streams ids one by one; returns the pieces (flush last). */
function stream(ids: number[]): string[] {
  const decoder = new StreamingDecoder(qwen);
  const pieces = ids.map((id) => decoder.push(id));
  pieces.push(decoder.flush());
  return pieces;
}

const HARD_TEXTS = [
  "你好，世界！数学很有趣：三角形的内角和是一百八十度。",
  "Family 👨‍👩‍👧‍👦, flags 🇯🇵🇫🇷🏳️‍🌈, abacus 🧮 and 👍🏽 done.",
  "So $\\frac{1}{2} + \\frac{1}{3} = \\frac{5}{6}$, hence \\boxed{\\dfrac{5}{6}}.\n\n" +
  "Next:\n\\[\n  x^2 - 4 = 0 \\implies x = \\pm 2\n\\]\n",
  "混合 text with 数字 123 and 😀😃😄 — «quotes» ≤ ≥ ∑ ∫ 𝔼[X]\r\nend",
];

Deno.test("Qwen tokenizer loads with the ids Qwen uses", () => {
  // Printable ASCII is the first block of Qwen's byte-level vocab: "!" = 0, so "0" = 15.
  assert.deepEqual(qwen.encode("1+1=2"), [16, 10, 16, 28, 17]);
  assert.deepEqual(qwen.encode("Hello world"), [9707, 1879]);
  assert.equal(qwen.tokenToId("Ġworld"), 1879);
  assert.equal(qwen.idToToken(1879), "Ġworld");
  assert.deepEqual(qwen.encode("<|im_start|>user"), [151644, 872]);
  assert.equal(qwen.vocabSize, 151669); // 151643 BPE tokens + 26 added tokens
  assert.deepEqual(qwen.eosIds, [151645]); // tokenizer_config eos_token "<|im_end|>"
  assert.equal(qwen.specialIds.length, 14); // <|endoftext|> .. <|video_pad|>
  assert.equal(qwen.idToToken(151936), undefined);
  assert.equal(qwen.tokenToId("no such token"), undefined);
});

Deno.test("decode skips special tokens by default and ignores padded ids", () => {
  const ids = [...qwen.encode("<|im_start|>"), ...qwen.encode("Hi"), 151645, 151900];
  assert.equal(qwen.decode(ids), "Hi");
  assert.equal(qwen.decode(ids, { skipSpecialTokens: false }), "<|im_start|>Hi<|im_end|>");
  assert.equal(qwen.decode([]), "");
});

Deno.test("streamed pieces of CJK, emoji and LaTeX add up to the full text, never broken", () => {
  let heldBack = 0;
  for (const text of HARD_TEXTS) {
    const ids = qwen.encode(text);
    assert.equal(qwen.decode(ids), text, "the tokenizer round trips the text");
    const pieces = stream(ids);
    assert.equal(pieces.join(""), text);
    for (const piece of pieces) assert.ok(!piece.includes("\uFFFD"), `broken piece in ${text}`);
    heldBack += pieces.filter((p) => p === "").length;
  }
  // The texts do split characters across tokens, so some pushes had to wait.
  assert.ok(heldBack > 5, `expected held-back pushes, got ${heldBack}`);
});

Deno.test("a multi-token emoji streams as whole code points", () => {
  const family = "👨‍👩‍👧‍👦";
  const ids = qwen.encode(` ${family}`);
  assert.ok(ids.length > 4, "the family emoji spans several tokens");
  const pieces = stream(ids).filter((p) => p !== "");
  assert.equal(pieces.join(""), ` ${family}`);
  const codePoints = (s: string) => [...s].map((c) => c.codePointAt(0));
  // Each piece is whole code points: re-encoding it as UTF-8 gives it back unchanged.
  for (const piece of pieces) {
    assert.deepEqual(
      codePoints(new TextDecoder().decode(new TextEncoder().encode(piece))),
      codePoints(piece),
    );
  }
});

Deno.test("streaming random ids (broken bytes, specials, padding) matches the full decode", () => {
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const ids: number[] = [];
  for (let i = 0; i < 400; i++) {
    // Mostly byte tokens (ids 0..255 are single bytes), some multi-byte, specials and padding.
    const r = next() % 10;
    ids.push(r < 6 ? next() % 256 : r < 8 ? next() % 151936 : 151643 + (next() % 300));
  }
  assert.equal(stream(ids).join(""), qwen.decode(ids));
  const withContext = new StreamingDecoder(qwen, { context: qwen.encode("Question: 2+2?") });
  const pieces = [...qwen.encode(" Answer: 4 ✓")].map((id) => withContext.push(id));
  assert.equal(pieces.join("") + withContext.flush(), " Answer: 4 ✓");
});

Deno.test("a model folder without tokenizer.json has no tokenizer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await Tokenizer.fromModelDir(dir), null);
    await Deno.writeTextFile(join(dir, "tokenizer.json"), "{oops");
    await assert.rejects(Tokenizer.fromModelDir(dir), /Cannot parse .*tokenizer\.json/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("same vocab is accepted and the padded tail is reported", () => {
  const report = checkVocabCompatible(qwen, qwen, { baseVocab: 152064, smallVocab: 151936 });
  assert.deepEqual(report, {
    baseVocab: 152064,
    smallVocab: 151936,
    sharedVocab: 151936,
    paddedTail: 128,
    baseTokenizerSize: 151669,
    smallTokenizerSize: 151669,
    checkedIds: 151669,
    unreachableBaseTokens: 0,
  });
});

Deno.test("a vocab that maps tokens to other ids is refused, naming the id and tokens", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const json = JSON.parse(await Deno.readTextFile(join(qwenTokenizerDir(), "tokenizer.json")));
    const vocab = json.model.vocab as Record<string, number>;
    // Swap two ids: "Hello" (9707) and "Ġworld" (1879).
    [vocab["Hello"], vocab["Ġworld"]] = [vocab["Ġworld"], vocab["Hello"]];
    await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(json));
    const other = (await Tokenizer.fromModelDir(dir))!;
    assert.throws(
      () =>
        checkVocabCompatible(qwen, other, {
          baseVocab: 152064,
          smallVocab: 151936,
          smallName: "/models/small",
        }),
      (err: Error) => {
        assert.ok(err instanceof UserError);
        assert.match(err.message, /"\/models\/small" disagrees .* at id 1879: "Hello" vs "Ġworld"/);
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
