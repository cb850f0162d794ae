/**
 * Answer normalisation: our port of the harness's `strip_string` (Qwen2.5-Math evaluation, as
 * shipped in simpleRL-reason's simplelr_math_eval). Every rule runs in the original order with
 * the original quirks, because the verdicts (and so the paper's numbers) depend on them: unit
 * words are deleted wherever they stand alone ("a+b" loses its "a"), "and" is deleted anywhere,
 * number words are read by w2n, and a few rules are dead code there and stay absent here.
 */
import { isCanonicalInt, pyRstrip, WORD_CLASS } from "./python_compat.ts";
import { convertWordNumber } from "./word_number.ts";

/** Unit words removed by strip_string (mainly from MathQA), in the harness's order. */
const BASE_UNIT_TEXTS = [
  "east",
  "degree",
  "mph",
  "kmph",
  "ft",
  "m sqaure",
  " m east",
  "sq m",
  "deg",
  "mile",
  "q .",
  "monkey",
  "prime",
  "ratio",
  "profit of rs",
  "rd",
  "o",
  "gm",
  "p . m",
  "lb",
  "tile",
  "per",
  "dm",
  "lt",
  "gain",
  "ab",
  "way",
  "west",
  "a .",
  "b .",
  "c .",
  "d .",
  "e .",
  "f .",
  "g .",
  "h .",
  "t",
  "a",
  "h",
  "no change",
  "men",
  "soldier",
  "pie",
  "bc",
  "excess",
  "st",
  "inches",
  "noon",
  "percent",
  "by",
  "gal",
  "kmh",
  "c",
  "acre",
  "rise",
  "a . m",
  "th",
  "π r 2",
  "sq",
  "mark",
  "l",
  "toy",
  "coin",
  "sq . m",
  "gallon",
  "° f",
  "profit",
  "minw",
  "yr",
  "women",
  "feet",
  "am",
  "pm",
  "hr",
  "cu cm",
  "square",
  "v â € ™",
  "are",
  "rupee",
  "rounds",
  "cubic",
  "cc",
  "mtr",
  "s",
  "ohm",
  "number",
  "kmph",
  "day",
  "hour",
  "minute",
  "min",
  "second",
  "man",
  "woman",
  "sec",
  "cube",
  "mt",
  "sq inch",
  "mp",
  "∏ cm ³",
  "hectare",
  "more",
  "sec",
  "unit",
  "cu . m",
  "cm 2",
  "rs .",
  "rs",
  "kg",
  "g",
  "month",
  "km",
  "m",
  "cm",
  "mm",
  "apple",
  "liter",
  "loss",
  "yard",
  "pure",
  "year",
  "increase",
  "decrease",
  "d",
  "less",
  "Surface",
  "litre",
  "pi sq m",
  "s .",
  "metre",
  "meter",
  "inch",
];

// The harness appends the plural of every unit; the texts are regex source there, so " ." in
// "a ." matches any character, as here.
const UNIT_PATTERNS = [...BASE_UNIT_TEXTS, ...BASE_UNIT_TEXTS.map((t) => t + "s")].map(
  (unit) => new RegExp(`(^|[^${WORD_CLASS}])${unit}($|[^${WORD_CLASS}])`, "gu"),
);

/** `\frac12` -> `\frac{1}{2}`, `\frac1{72}` -> `\frac{1}{72}` (harness `_fix_fracs`). */
export function fixFracs(input: string): string {
  const parts = input.split("\\frac");
  let out = parts[0];
  for (const part of parts.slice(1)) {
    out += "\\frac";
    const chars = Array.from(part);
    if (chars.length > 0 && chars[0] === "{") {
      out += part;
      continue;
    }
    if (chars.length < 2) return input;
    const [a, b] = chars;
    const rest = chars.slice(2).join("");
    out += b !== "{" ? `{${a}}{${b}}${rest}` : `{${a}}${b}${rest}`;
  }
  return out;
}

/** `3/4` -> `\frac{3}{4}` for plain integers (or radicals) on both sides (`_fix_a_slash_b`). */
export function fixASlashB(input: string): string {
  const parts = input.split("/");
  if (parts.length !== 2) return input;
  const [a, b] = parts;
  const okA = a.includes("sqrt") || isCanonicalInt(a);
  const okB = b.includes("sqrt") || isCanonicalInt(b);
  return okA && okB ? `\\frac{${a}}{${b}}` : input;
}

/** `\sqrt2` -> `\sqrt{2}` (`_fix_sqrt`). */
export function fixSqrt(input: string): string {
  return input.replace(new RegExp(`\\\\sqrt([${WORD_CLASS}]+)`, "gu"), "\\sqrt{$1}");
}

function removeUnitWords(input: string): string {
  let s = input;
  for (let pass = 0; pass < 2; pass++) {
    for (const pattern of UNIT_PATTERNS) {
      const next = s.replace(pattern, "$1$2");
      if (next !== "") s = next;
    }
  }
  return s;
}

/** The harness's `strip_string(string, skip_unit)`: normalise an answer for comparison. */
export function stripString(input: string, skipUnit = false): string {
  let s = input.trim();
  s = s.replaceAll("\n", "");
  s = pyRstrip(s, ".");
  s = s.replaceAll("\\!", "");
  // matrices
  s = s.replace(/\\begin\{array\}\{.*?\}/gu, "\\begin{pmatrix}");
  s = s.replace(/\\end\{array\}/gu, "\\end{pmatrix}");
  s = s.replaceAll("bmatrix", "pmatrix");
  s = s.replaceAll("tfrac", "frac").replaceAll("dfrac", "frac");
  s = s.replaceAll("\\neq", "\\ne").replaceAll("\\leq", "\\le").replaceAll("\\geq", "\\ge");
  s = s.replaceAll("\\left", "").replaceAll("\\right", "");
  s = s.replaceAll("\\{", "{").replaceAll("\\}", "}");
  // a trailing \text{...} is a unit ("5\text{ cm}"), unless it is the whole answer
  const withoutText = s.replace(/\\text\{.*?\}$/u, "").trim();
  if (withoutText !== "" && withoutText !== s) s = withoutText;
  if (!skipUnit) s = removeUnitWords(s);
  s = s.replaceAll("^{\\circ}", "").replaceAll("^\\circ", "");
  s = s.replaceAll("\\$", "").replaceAll("$", "");
  s = s.replaceAll("\\(", "").replaceAll("\\)", "");
  s = convertWordNumber(s);
  s = s.replace(/\\text\{(.*?)\}/gu, "$1");
  for (const key of ["x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to"]) {
    s = s.replaceAll(key, "");
  }
  s = s.replaceAll("\\emptyset", "{}");
  s = s.replaceAll("(-\\infty,\\infty)", "\\mathbb{R}");
  s = s.replaceAll("\\%", "").replaceAll("%", "");
  s = s.replaceAll(" .", " 0.").replaceAll("{.", "{0.");
  // (the harness's bracket-unwrapping test requires str.isalnum() on a bracketed string: never true)
  s = s.replaceAll("infinity", "\\infty");
  if (!s.includes("\\infty")) s = s.replaceAll("inf", "\\infty");
  s = s.replaceAll("+\\inity", "\\infty");
  s = s.replaceAll("and", "");
  s = s.replaceAll("\\mathbf", "");
  s = s.replace(/\\mbox\{.*?\}/gu, "");
  if (s.includes("j") && !s.includes("i")) s = s.replaceAll("j", "i");
  // "3.000x" -> "3x", "5.0" -> "5". A match can only start where a run of digits starts (the
  // lookbehind): the same matches as Python's, without retrying from every digit of a long run.
  s = s.replace(/(?<!\p{Nd})(\p{Nd}+)\.0*([^\p{Nd}])/gu, "$1$2");
  s = s.replace(/(?<!\p{Nd})(\p{Nd}+)\.0*$/u, "$1");
  if (s.length === 0) return s;
  if (s[0] === ".") s = "0" + s;
  // "k = 5" -> " 5" when the left side has at most two characters
  const sides = s.split("=");
  if (sides.length === 2 && Array.from(sides[0]).length <= 2) s = sides[1];
  s = fixSqrt(s);
  s = s.replaceAll(" ", "");
  s = fixFracs(s);
  s = fixASlashB(s);
  return s;
}
