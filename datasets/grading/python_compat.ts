/**
 * Small pieces of Python semantics that the authors' evaluator relies on (str.strip with a
 * character set, float(), math.isclose, repr(float), Unicode \w / \d in `re`). Grading verdicts
 * depend on these details, so they are reproduced rather than approximated with JS defaults.
 */

/** Python `re`'s Unicode `\w` as a character-class body (use inside `[...]` with the `u` flag). */
export const WORD_CLASS = "\\p{L}\\p{N}_";

/** Python's `str.strip(chars)`: remove any of `chars` from both ends (whitespace when omitted). */
export function pyStrip(s: string, chars?: string): string {
  return pyRstrip(pyLstrip(s, chars), chars);
}

/** Python's `str.lstrip(chars)`. */
export function pyLstrip(s: string, chars?: string): string {
  if (chars === undefined) return s.trimStart();
  let i = 0;
  while (i < s.length && chars.includes(s[i])) i++;
  return s.slice(i);
}

/** Python's `str.rstrip(chars)`. */
export function pyRstrip(s: string, chars?: string): string {
  if (chars === undefined) return s.trimEnd();
  let j = s.length;
  while (j > 0 && chars.includes(s[j - 1])) j--;
  return s.slice(0, j);
}

/** Python's `str.split(sep)` for a literal separator (JS `split` already matches it). */
export function pySplit(s: string, sep: string): string[] {
  return s.split(sep);
}

/** Python's `str.count(sub)` for a non-empty literal. */
export function pyCount(s: string, sub: string): number {
  let n = 0;
  for (let i = s.indexOf(sub); i !== -1; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

/** Replace Unicode decimal digits (Nd) with ASCII ones, as Python's int() and float() read them. */
export function asciiDigits(s: string): string {
  return s.replace(/\p{Nd}/gu, (d) => {
    if (d >= "0" && d <= "9") return d;
    // Nd digits come in aligned runs of ten (0..9); find the block start by scanning down.
    const cp = d.codePointAt(0)!;
    let start = cp;
    while (start > 0 && cp - start < 60 && /\p{Nd}/u.test(String.fromCodePoint(start - 1))) {
      start--;
    }
    return String((cp - start) % 10);
  });
}

const FLOAT_LITERAL =
  /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/;

/** Python's `float(s)`: the value, or null where Python raises ValueError. */
export function pyFloat(raw: string): number | null {
  const s = asciiDigits(raw.trim());
  if (FLOAT_LITERAL.test(s)) return Number(s.replace(/_/g, ""));
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (special) {
    if (special[2].toLowerCase() === "nan") return NaN;
    return special[1] === "-" ? -Infinity : Infinity;
  }
  return null;
}

/** Python's `str(int(s)) == s` for the strings `_fix_a_slash_b` accepts: a canonical integer. */
export function isCanonicalInt(s: string): boolean {
  return /^(?:0|-?[1-9][0-9]*)$/.test(s);
}

/** Python's `math.isclose(a, b, rel_tol=relTol)` with abs_tol 0. */
export function isClose(a: number, b: number, relTol: number): boolean {
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const diff = Math.abs(b - a);
  return diff <= Math.abs(relTol * b) || diff <= Math.abs(relTol * a);
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form outside [1e-4, 1e16). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
    const frac = digits.slice(exp + 1);
    return `${sign}${intPart}.${frac === "" ? "0" : frac}`;
  }
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
  return `${sign}${mant}e${exp < 0 ? "-" : "+"}${e}`;
}

/** Python's `str(x)` for a JSON value as the authors' loaders see it (ints stay ints). */
export function pyStr(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  }
  if (typeof value === "boolean") return value ? "True" : "False";
  if (value === null || value === undefined) return "None";
  return JSON.stringify(value);
}
