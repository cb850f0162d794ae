/**
 * Hand-checked grading corpus, part 1: numbers, fractions, radicals, pi, degrees,
 * percentages, units, scientific notation, thousands separators, negatives.
 * Each case is (gold, prediction, verdict) under the authors' harness rules (Qwen2.5-Math /
 * simpleRL simplelr_math_eval: strip_string applied twice to predictions and math500 golds, then
 * math_equal). Verdicts were derived from that source and cross-checked with a local
 * transcription of it run on sympy; "(quirk)" marks verdicts that follow the harness rather than
 * mathematics. The dataset is math500 unless a fifth field names it.
 */
import assert from "node:assert/strict";
import { Grader } from "../engine/eval/mod.ts";

type Case = [gold: string, pred: string, correct: boolean, note: string, dataset?: string];

const CASES: Case[] = [
  ["5", "5", true, "identical integers"],
  ["\\frac{1}{2}", "0.5", true, "fraction vs decimal"],
  ["\\frac{1}{2}", "\\dfrac{1}{2}", true, "dfrac"],
  ["\\frac{1}{2}", "\\tfrac12", true, "tfrac without braces"],
  ["\\frac{1}{2}", "1/2", true, "slash fraction"],
  ["\\frac{3}{4}", "\\frac{6}{8}", true, "unreduced fraction"],
  ["\\frac{2}{3}", "0.6667", true, "rounded decimal within 1e-4"],
  ["\\frac{2}{3}", "0.67", false, "decimal too coarse"],
  ["\\frac{1}{3}", "0.3333", true, "1/3 to four places"],
  ["\\frac{1}{3}", "0.333", false, "1/3 to three places is off by 1e-3"],
  ["-\\frac{1}{2}", "-0.5", true, "negative fraction"],
  ["\\frac{-1}{2}", "-\\frac{1}{2}", true, "minus inside vs outside"],
  ["\\frac{5}{2}", "2\\frac{1}{2}", false, "mixed number reads as 2*(1/2)"],
  ["\\frac{7}{2}", "3.5", true, "improper fraction"],
  ["\\frac{1}{4}", "\\frac14", true, "frac14 braces fixed"],
  ["\\frac{1}{12}", "\\frac1{12}", true, "frac1{12}"],
  ["\\frac{a}{b}", "a/b", false, "letter slash: unit 'a' removed from gold"],
  ["\\frac{9}{7}", "\\frac{7}{9}", false, "inverted fraction"],
  ["2\\sqrt{2}", "\\sqrt{8}", true, "sqrt8"],
  ["\\sqrt{2}", "\\sqrt2", true, "sqrt without braces"],
  ["\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}", true, "sqrt3 over 2"],
  ["\\frac{\\sqrt{3}}{2}", "0.866", true, "0.866 is within rel 1e-4 of sqrt(3)/2"],
  ["\\frac{\\sqrt{3}}{2}", "0.86603", true, "0.86603 within rel 1e-4"],
  ["\\frac{1}{\\sqrt{2}}", "\\frac{\\sqrt{2}}{2}", true, "rationalised"],
  ["3\\sqrt{3}", "\\sqrt{27}", true, "sqrt27"],
  ["\\sqrt{5}", "\\sqrt{6}", false, "different radicands"],
  ["1+\\sqrt{2}", "\\sqrt{2}+1", true, "commuted sum"],
  ["4\\sqrt{3}", "4 \\sqrt 3", true, "spaced sqrt"],
  ["10\\%", "10", true, "percent sign dropped"],
  ["10", "0.1", true, "reference /100 accepted"],
  ["0.25", "25", true, "reference x100 accepted"],
  ["25\\%", "25%", true, "plain percent"],
  ["50", "5", false, "not a percent rescale"],
  ["12.5\\%", "0.125", true, "12.5 vs 0.125"],
  ["\\$18", "18", true, "dollar sign"],
  ["18", "\\$18.00", true, "dollars and cents"],
  ["3", "3 hours", true, "hours word"],
  ["7", "7 apples", true, "unit list word apples"],
  ["4", "4 km", true, "km"],
  ["60", "60 mph", true, "mph"],
  ["1, 2", "2, 1", false, "comma list order matters (tuple)"],
  ["1, 2", "1,2", true, "comma list spacing"],
  ["2, -3", "-3, 2", false, "roots listed in other order"],
  ["-1, 1", "\\pm 1", false, "pm is not a list"],
  ["C", "C", true, "letter"],
  ["B", "A", false, "wrong letter"],
  ["D", "D.", true, "trailing period"],
  ["2.5e3", "2500", true, "python float e-notation"],
  ["10^6", "1000000", false, "parse_expr reads 10^6 as 10 XOR 6 = 12 (quirk)"],
  ["2^{10}", "1024", true, "braced power parsed as LaTeX"],
  ["2^3", "1", true, "2^3 is 2 XOR 3 = 1 (quirk)"],
  ["9", "3^2", false, "3^2 is 3 XOR 2 = 1 (quirk)"],
  ["1,000", "1000", true, "thousands separator"],
  ["1000000", "1,000,000", true, "million with commas"],
  ["12,345.6", "12345.6", true, "comma with decimals"],
  ["1,2", "12", true, "comma is dropped in numbers: 1,2 == 12 (quirk)"],
  ["-5", "-5", true, "negative"],
  ["-5", "5", false, "sign matters"],
  ["-3", "-3.0", true, "negative float"],
  ["-\\frac{3}{2}", "-1.5", true, "negative fraction"],
  ["-2", "- 2", true, "space after minus"],
  ["0.5", ".5", true, "leading dot"],
  ["5", "5.000", true, "trailing zeros"],
  ["3.14", "3.140", true, "trailing zero decimal"],
  ["100", "99.995", true, "within rel 1e-4"],
  ["100", "99.98", false, "outside rel 1e-4"],
  ["0", "0.0", true, "zero"],
  ["0", "0.00001", false, "zero has no tolerance"],
  ["2", "two", true, "number word"],
  ["3", "three apples", true, "w2n ignores non-number words"],
  ["e^{2}", "e^2", true, "e power"],
  ["5", "", false, "empty prediction"],
  ["a+b", "b+a", false, "unit word 'a' deleted from both (quirk)"],
  ["4t", "4t", true, "identical strings"],
  ["2m", "2", false, "m is removed only as a separate word"],
  ["10 m", "10", true, "m unit removed"],
  ["5", "5 m", true, "math500 drops the unit word"],
  ["\\frac{3}{2}", "1.5", true, "3/2 decimal"],
  ["\\frac{1}{8}", "0.125", true, "1/8 decimal"],
  ["\\frac{1}{8}", "12.5\\%", false, "x100 and /100 only between plain numbers"],
  ["0.125", "\\frac{1}{8}", true, "decimal gold, fraction pred"],
  ["10", "10.0001", true, "tiny relative error"],
  ["1000", "999.9", false, "float error puts 999.9 just outside rel 1e-4"],
  ["1000", "999.8", false, "outside 0.1"],
  ["-7", "-7.00", true, "negative with zeros"],
  ["3", "03", true, "leading zero"],
  ["2.5", "2\\frac{1}{2}", false, "mixed number is a product (1)"],
  ["1", "2\\frac{1}{2}", true, "mixed-number product equals 1 (quirk)"],
  ["\\sqrt{2}\\cdot\\sqrt{3}", "\\sqrt{6}", true, "product of roots"],
  ["2^{-1}", "\\frac{1}{2}", true, "negative power braces"],
  ["\\frac{a+b}{2}", "\\frac{b+a}{2}", false, "unit word a deleted: +b vs b+ (quirk)"],
  ["\\frac{\\sqrt{5}-1}{2}", "0.618", true, "0.618 is within rel 1e-4"],
  ["\\frac{\\sqrt{5}-1}{2}", "0.61803", true, "golden ratio conj 5 digits"],
  ["12", "?", false, "question mark"],
  ["12", "\\ldots", false, "ellipsis"],
];

Deno.test("grading corpus: numbers, fractions, radicals, percentages, units, notation", async () => {
  using grader = new Grader({ workers: 2 });
  const failures: string[] = [];
  for (const [gold, pred, correct, note, dataset = "math500"] of CASES) {
    const v = await grader.gradePred(pred, gold, dataset);
    if (v.correct !== correct || v.timeout) {
      failures.push(
        `${note}: gold ${JSON.stringify(gold)} pred ${JSON.stringify(pred)} ` +
          `expected ${correct}, got ${v.correct}${v.timeout ? " (timeout)" : ""} ` +
          `[${JSON.stringify(v.extracted)} vs ${JSON.stringify(v.gold)}]`,
      );
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(CASES.length >= 95);
});
