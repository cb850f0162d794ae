/**
 * Answer equivalence: our port of the harness's grader.py `math_equal` (Qwen2.5-Math / simpleRL).
 * The string and number stages are reproduced exactly (case-insensitive match, choice letters,
 * numbers within rel. 1e-4 also against reference x100 and /100 with no symbolic fallback,
 * bracket stripping, element-wise tuples and intervals, pmatrix cells, equations as a - b). The
 * symbolic stage is injected, so callers can run it where it can be stopped (see grader.ts).
 */
import { isClose, pyCount, pyFloat, pyStrip } from "./python_compat.ts";

/** Decides symbolic equality of two normalised answers (the harness's `symbolic_equal`). */
export type SymbolicEqual = (a: string, b: string) => boolean;

const LETTERS = ["A", "B", "C", "D", "E"];
const LETTER_RE = /(?<![\p{L}\p{N}_])(A|B|C|D|E)(?![\p{L}\p{N}_])/gu;
const LIST_RE = /^[([][^\n]+[)\]]/u;
const PMATRIX_BEGIN = "\\begin{pmatrix}";
const PMATRIX_END = "\\end{pmatrix}";

/** grader.py's simpler `choice_answer_clean`. */
function choiceAnswerClean(text: string): string {
  let pred = pyStrip(text, "\n");
  pred = pred.replace(/\.+$/u, "").replace(/\/+$/u, "");
  pred = pyStrip(pred, " ").replace(/^:+/u, "");
  const found = [...pred.toUpperCase().matchAll(LETTER_RE)].map((m) => m[1]);
  pred = found.length > 0 ? found[found.length - 1] : pyStrip(pred.trim(), ".");
  return pred.replace(/\.+$/u, "").replace(/\/+$/u, "");
}

/** grader.py's `parse_digits`: float() after dropping commas, or a trailing percent /100. */
export function parseDigits(text: string): number | null {
  let num = text.replaceAll(",", "");
  const value = pyFloat(num);
  if (value !== null) return value;
  if (num.endsWith("%")) {
    num = num.slice(0, -1);
    if (num.endsWith("\\")) num = num.slice(0, -1);
    const pct = pyFloat(num);
    if (pct !== null) return pct / 100;
  }
  return null;
}

/** grader.py's `str_to_pmatrix`: "{1,2}" -> "\begin{pmatrix}1\2\end{pmatrix}" (sic). */
function strToPmatrix(input: string): string {
  const matches = input.trim().match(/\{.*,.*\}/gu) ?? [];
  return matches
    .map((m) => `${PMATRIX_BEGIN}${pyStrip(m, "{}").replaceAll(",", "\\")}${PMATRIX_END}`)
    .join(", ");
}

function isMatrix(s: string): boolean {
  return (s.startsWith(PMATRIX_BEGIN) || s.startsWith("\\begin{bmatrix}")) &&
    (s.endsWith(PMATRIX_END) || s.endsWith("\\end{bmatrix}"));
}

function matrixRows(s: string): string[] {
  return s.slice(PMATRIX_BEGIN.length, s.length - PMATRIX_END.length)
    .split("\\\\").map((line) => line.trim()).filter((line) => line !== "");
}

/** Options of `mathEqual`, as the harness's keyword arguments. */
export interface MathEqualOptions {
  symbolic: SymbolicEqual;
  includePercentage?: boolean;
  isClose?: boolean;
}

/** The harness's `math_equal(prediction, reference)`; null (Python None) never matches. */
export function mathEqual(
  prediction: string | null,
  reference: string | null,
  opts: MathEqualOptions,
): boolean {
  if (prediction === null || reference === null) return false;
  const includePercentage = opts.includePercentage ?? true;
  const closeEnough = opts.isClose ?? true;
  const recurse = (p: string, r: string) => mathEqual(p, r, opts);
  if (prediction.trim().toLowerCase() === reference.trim().toLowerCase()) return true;
  if (LETTERS.includes(reference) && choiceAnswerClean(prediction) === reference) return true;

  // 1. numbers: decided here, with no symbolic fallback
  const predNum = parseDigits(prediction);
  const refNum = parseDigits(reference);
  if (predNum !== null && refNum !== null) {
    const candidates = includePercentage ? [refNum / 100, refNum, refNum * 100] : [refNum];
    return candidates.some((c) => closeEnough ? isClose(c, predNum, 1e-4) : c === predNum);
  }
  if (prediction === "") return false;

  // 2. structures
  const pred = prediction.trim();
  let ref = reference.trim();
  if (pred.includes("pmatrix") && !ref.includes("pmatrix")) ref = strToPmatrix(ref);
  let predStr = pred;
  let refStr = ref;
  if (
    (pred.startsWith("[") && pred.endsWith("]") && !ref.startsWith("(")) ||
    (pred.startsWith("(") && pred.endsWith(")") && !ref.startsWith("["))
  ) {
    predStr = pyStrip(predStr, "[]()");
    refStr = pyStrip(refStr, "[]()");
  }
  predStr = predStr.replace(/[{}()]/gu, "");
  refStr = refStr.replace(/[{}()]/gu, "");
  if (predStr.toLowerCase() === refStr.toLowerCase()) return true;

  // [a, b] vs [c, d] (any bracket kinds): element by element
  if (LIST_RE.test(pred) && LIST_RE.test(ref)) {
    const predParts = pred.slice(1, -1).split(",");
    const refParts = ref.slice(1, -1).split(",");
    if (
      predParts.length === refParts.length && predParts.every((p, i) => recurse(p, refParts[i]))
    ) {
      return true;
    }
  }
  if (isMatrix(pred) && isMatrix(ref) && matricesEqual(pred, ref, recurse)) return true;

  // equations
  const predEq = pyCount(pred, "=");
  const refEq = pyCount(ref, "=");
  if (predEq === 1 && refEq === 1) {
    const [pl, pr] = pred.split("=");
    const [rl, rr] = ref.split("=");
    const p = `${pl.trim()} - (${pr.trim()})`;
    const r = `${rl.trim()} - (${rr.trim()})`;
    if (opts.symbolic(p, r) || opts.symbolic(`-(${p})`, r)) return true;
  } else if (predEq === 1 && pred.split("=")[0].trim().length <= 2 && refEq === 0) {
    if (recurse(pred.split("=")[1], ref)) return true;
  } else if (refEq === 1 && ref.split("=")[0].trim().length <= 2 && predEq === 0) {
    if (recurse(pred, ref.split("=")[1])) return true;
  }

  // 3. symbolic
  return opts.symbolic(pred, ref);
}

function matricesEqual(
  pred: string,
  ref: string,
  recurse: (p: string, r: string) => boolean,
): boolean {
  const predLines = matrixRows(pred);
  const refLines = matrixRows(ref);
  if (predLines.length !== refLines.length) return false;
  return predLines.every((line, i) => {
    const predCells = line.split("&");
    const refCells = refLines[i].split("&");
    return predCells.length === refCells.length &&
      predCells.every((cell, j) => recurse(cell, refCells[j]));
  });
}
