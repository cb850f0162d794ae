/** Wrapping of streamed answer pieces into screen lines, checked by hand. */
import assert from "node:assert/strict";
import {
  headLines,
  type Line,
  tailLines,
  tokenLabel,
  truncate,
  visibleText,
} from "../tui/app/text_layout.ts";

const text = (lines: Line[]) => lines.map((line) => line.map((s) => s.text).join(""));
const piece = (t: string, delta = 0) => ({ text: t, delta });

Deno.test("word wrap breaks after the last space, mid-word only when a word is too long", () => {
  const pieces = [piece("hello"), piece(" world"), piece(" foo")];
  assert.deepEqual(text(tailLines(pieces, { width: 11, height: 5 })), ["hello ", "world foo"]);
  assert.deepEqual(text(tailLines(pieces, { width: 11, height: 1 })), ["world foo"]);
  assert.deepEqual(text(tailLines([piece("abcdefgh")], { width: 3, height: 5 })), [
    "abc",
    "def",
    "gh",
  ]);
});

Deno.test("hard line breaks, and only the last lines are kept", () => {
  const pieces = Array.from({ length: 10 }, (_, i) => piece(`l${i}\n`)).concat(piece("end"));
  assert.deepEqual(text(tailLines(pieces, { width: 10, height: 3 })), ["l8", "l9", "end"]);
});

Deno.test("runs of equal delta become one segment", () => {
  const lines = tailLines([piece("ab", 1), piece("cd", 1), piece("e", -1)], {
    width: 10,
    height: 2,
  });
  assert.deepEqual(lines, [[{ text: "abcd", delta: 1 }, { text: "e", delta: -1 }]]);
});

Deno.test("control characters are shown as U+FFFD, carriage returns dropped, tabs as spaces", () => {
  assert.deepEqual(text(tailLines([piece("a\x1b[2Jb\r\tc")], { width: 20, height: 1 })), [
    "a\ufffd[2Jb  c",
  ]);
  assert.equal(visibleText("x\x07y\n\tz"), "x\ufffdy\n  z");
});

Deno.test("wide characters take two columns", () => {
  assert.deepEqual(text(tailLines([piece("数学题目")], { width: 5, height: 3 })), ["数学", "题目"]);
});

Deno.test("truncate, headLines and token labels", () => {
  assert.equal(truncate("abcdef", 4), "abc…");
  assert.equal(truncate("abc", 4), "abc");
  assert.deepEqual(headLines("one two three four", { width: 9, height: 2 }), [
    "one two ",
    "three …",
  ]);
  assert.deepEqual(headLines("one two", { width: 9, height: 2 }), ["one two"]);
  assert.equal(tokenLabel(" the\n"), "␣the⏎");
  assert.equal(tokenLabel(""), "∅");
});
