/**
 * Number words to digits, as the `word2number` package (w2n.word_to_num) that the authors'
 * strip_string calls on every answer. It picks the number words out of the whole string and
 * ignores the rest, so "two apples" becomes "2"; anything it rejects leaves the text unchanged.
 */
import { asciiDigits, pyFloatRepr } from "./python_compat.ts";

const NUMBER_WORDS: Record<string, number> = {
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  fifty: 50,
  sixty: 60,
  seventy: 70,
  eighty: 80,
  ninety: 90,
  hundred: 100,
  thousand: 1000,
  million: 1000000,
  billion: 1000000000,
};
const DECIMAL_WORDS = [
  "zero",
  "one",
  "two",
  "three",
  "four",
  "five",
  "six",
  "seven",
  "eight",
  "nine",
];

/** w2n raises; the caller (convert_word_number) keeps the text. */
class NotANumber extends Error {}

function numberFormation(words: string[]): number {
  if (words.length === 0) throw new NotANumber("empty group"); // Python: IndexError
  const n = words.map((w) => NUMBER_WORDS[w]);
  if (n.length === 4) return n[0] * n[1] + n[2] + n[3];
  if (n.length === 3) return n[0] * n[1] + n[2];
  if (n.length === 2) return n.includes(100) ? n[0] * n[1] : n[0] + n[1];
  return n[0];
}

/** Returns [value, isFloat]; a float result prints with Python's repr. */
function wordToNum(sentence: string): [number, boolean] {
  sentence = sentence.replaceAll("-", " ").toLowerCase();
  const words = sentence.trim().split(/\s+/).filter((w) => w !== "");
  let clean = words.filter((w) => Object.hasOwn(NUMBER_WORDS, w) || w === "point");
  if (clean.length === 0) throw new NotANumber("no number words");
  const count = (w: string) => clean.filter((c) => c === w).length;
  if (count("thousand") > 1 || count("million") > 1 || count("billion") > 1 || count("point") > 1) {
    throw new NotANumber("redundant");
  }
  let decimals: string[] = [];
  if (count("point") === 1) {
    const p = clean.indexOf("point");
    decimals = clean.slice(p + 1);
    clean = clean.slice(0, p);
  }
  const bi = clean.indexOf("billion");
  const mi = clean.indexOf("million");
  const ti = clean.indexOf("thousand");
  if ((ti > -1 && (ti < mi || ti < bi)) || (mi > -1 && mi < bi)) throw new NotANumber("malformed");
  let total = 0;
  if (clean.length === 1) {
    total += NUMBER_WORDS[clean[0]];
  } else if (clean.length > 1) {
    if (bi > -1) total += numberFormation(clean.slice(0, bi)) * 1e9;
    if (mi > -1) total += numberFormation(clean.slice(bi > -1 ? bi + 1 : 0, mi)) * 1e6;
    if (ti > -1) {
      const from = mi > -1 ? mi + 1 : bi > -1 ? bi + 1 : 0;
      total += numberFormation(clean.slice(from, ti)) * 1000;
    }
    const last = clean.length - 1;
    let hundreds = 0;
    if (ti > -1 && ti !== last) hundreds = numberFormation(clean.slice(ti + 1));
    else if (mi > -1 && mi !== last && ti !== last) hundreds = numberFormation(clean.slice(mi + 1));
    else if (bi > -1 && bi !== last) hundreds = numberFormation(clean.slice(bi + 1));
    else if (ti === -1 && mi === -1 && bi === -1) hundreds = numberFormation(clean);
    total += hundreds;
  }
  if (decimals.length > 0) {
    if (decimals.every((w) => DECIMAL_WORDS.includes(w))) {
      const digits = decimals.map((w) => NUMBER_WORDS[w]).join("");
      return [total + Number(`0.${digits}`), true];
    }
  }
  return [total, false];
}

/** strip_string's convert_word_number: `str(w2n.word_to_num(text))`, or the text on error. */
export function convertWordNumber(text: string): string {
  const lowered = text.replaceAll("-", " ").toLowerCase();
  if (/^\p{Nd}+$/u.test(lowered)) {
    // Python: int(text), which also drops leading zeros ("033" -> "33").
    return BigInt(asciiDigits(lowered)).toString();
  }
  try {
    const [value, isFloat] = wordToNum(text);
    return isFloat ? pyFloatRepr(value) : String(value);
  } catch (err) {
    if (err instanceof NotANumber) return text;
    throw err;
  }
}
