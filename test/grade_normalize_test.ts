/**
 * strip_string, word numbers and the Python semantics they rest on, against outputs of the
 * authors' parser.py (and word2number, Python's float() and repr()) for the same inputs.
 */
import assert from "node:assert/strict";
import { stripString } from "../datasets/grading/normalize.ts";
import { convertWordNumber } from "../datasets/grading/word_number.ts";
import { isClose, pyFloat, pyFloatRepr } from "../datasets/grading/python_compat.ts";

/** [input, skip_unit, strip_string(input, skip_unit)] */
const STRIP: [string, boolean, string][] = [
  ["\\dfrac{3}{4}", false, "\\frac{3}{4}"],
  ["\\left( 1, 2 \\right)", false, "(1,2)"],
  ["5\\text{ cm}", false, "5"],
  ["\\text{(A)}", false, "(A)"],
  ["10\\%", false, "10"],
  ["\\$1,000", false, "1,000"],
  ["x = 5", false, "5"],
  ["k=7", false, "7"],
  ["y=2x+3", false, "2x+3"],
  ["\\frac12", false, "\\frac{1}{2}"],
  ["\\frac1{72}", false, "\\frac{1}{72}"],
  ["3/4", false, "\\frac{3}{4}"],
  ["-3/4", false, "\\frac{-3}{4}"],
  ["\\sqrt2/2", false, "\\frac{\\sqrt{2}}{2}"],
  ["1/\\sqrt{3}", false, "\\frac{1}{\\sqrt{3}}"],
  ["\\sqrt3", false, "\\sqrt{3}"],
  ["\\sqrt{3}x", false, "\\sqrt{3}x"],
  ["0.50", false, "0.50"],
  ["5.000", false, "5"],
  ["2.0x", false, "2x"],
  [".5", false, "0.5"],
  ["30^\\circ", false, "30"],
  ["30^{\\circ}", false, "30"],
  ["infinity", false, "\\infty"],
  ["(-\\infty,\\infty)", false, "\\mathbb{R}"],
  ["\\emptyset", false, "{}"],
  ["a+b", false, "+b"],
  ["4 m", false, "4"],
  ["4 m", true, "4m"],
  ["two", false, "2"],
  ["033", false, "33"],
  ["\\begin{bmatrix}1&2\\end{bmatrix}", false, "\\begin{pmatrix}1&2\\end{pmatrix}"],
  ["\\begin{array}{cc}1&2\\end{array}", false, "\\begin{pmatrix}1&2\\end{pmatrix}"],
  ["\\leq 3", false, "\\le3"],
  ["x \\neq 2", false, "x\\ne2"],
  ["2+3j", false, "2+3i"],
  ["\\mbox{m}5", false, "5"],
  ["3 and 4", false, "34"],
  ["\\text{Monday}", false, "Monday"],
  ["5 \\text{ and } 7 \\text{ apples}", false, "5"],
  ["\\{1, 2\\}", false, "{1,2}"],
  ["Surface", false, "Surface"],
  ["  7.  ", false, "7"],
  ["\\tfrac{1}{2}", false, "\\frac{1}{2}"],
  ["\\!\\!5", false, "5"],
  ["x\\in [0,1]", false, "[0,1]"],
  ["3 sec", false, "3"],
  ["\\sec x", false, "\\x"],
  ["12 \\text{ inches}^2", false, "12^2"],
  ["1 .5", false, "10.5"],
  ["{.5}", false, "{0.5}"],
];

/** [text, convert_word_number(text)] */
const WORDS: [string, string][] = [
  ["two", "2"],
  ["twenty-one", "21"],
  ["one hundred five", "105"],
  ["three apples", "3"],
  ["one point five", "1.5"],
  ["two thousand and nineteen", "2019"],
  ["007", "7"],
  ["seven million", "7000000"],
  ["no number here", "no number here"],
  ["thousand thousand", "thousand thousand"],
  ["point five", "0.5"],
  ["ninety nine", "99"],
];

/** [text, float(text) or null where Python raises] */
const FLOATS: [string, number | null][] = [
  ["1e5", 100000.0],
  [" 12 ", 12.0],
  ["1_000", 1000.0],
  ["inf", Infinity],
  ["-Infinity", -Infinity],
  ["nan", NaN],
  ["1.5.", null],
  ["3.", 3.0],
  [".5e-3", 0.0005],
  ["1__0", null],
  ["0x10", null],
  ["+7", 7.0],
  ["abc", null],
  ["", null],
];

/** [x, repr(x)] */
const REPRS: [number, string][] = [
  [27.0, "27.0"],
  [0.1, "0.1"],
  [1e+16, "1e+16"],
  [1e-05, "1e-05"],
  [123456789.125, "123456789.125"],
  [1.5e-07, "1.5e-07"],
  [-2.5, "-2.5"],
  [1e+22, "1e+22"],
  [0.0001, "0.0001"],
  [1.2345678901234568e+16, "1.2345678901234568e+16"],
];

Deno.test("stripString matches the harness's strip_string", () => {
  for (const [input, skipUnit, expected] of STRIP) {
    assert.equal(stripString(input, skipUnit), expected, `strip_string(${JSON.stringify(input)})`);
  }
});

Deno.test("convertWordNumber matches w2n.word_to_num with its fallbacks", () => {
  for (const [input, expected] of WORDS) assert.equal(convertWordNumber(input), expected, input);
});

Deno.test("pyFloat accepts exactly what Python's float() accepts", () => {
  for (const [input, expected] of FLOATS) {
    const got = pyFloat(input);
    if (expected === null || Number.isNaN(expected)) {
      assert.ok(expected === null ? got === null : Number.isNaN(got!), JSON.stringify(input));
    } else assert.equal(got, expected, JSON.stringify(input));
  }
});

Deno.test("pyFloatRepr prints floats as Python's repr", () => {
  for (const [x, expected] of REPRS) assert.equal(pyFloatRepr(x), expected);
});

Deno.test("isClose is math.isclose with rel_tol and no abs_tol", () => {
  assert.equal(isClose(100, 99.995, 1e-4), true);
  assert.equal(isClose(100, 99.99, 1e-4), false); // 0.010000000000005116 > 0.01 in floats
  assert.equal(isClose(0, 1e-30, 1e-4), false);
  assert.equal(isClose(Infinity, Infinity, 1e-4), true);
  assert.equal(isClose(NaN, NaN, 1e-4), false);
});
