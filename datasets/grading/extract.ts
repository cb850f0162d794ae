/**
 * Answer extraction from model text, as the harness's `extract_answer` and the prediction path
 * of `math_eval_pred.py`: truncate at stop strings, take the Minerva "final answer is $...$. I
 * hope" form, else the last `\boxed{}` (brace-matched, or `\boxed 5`), else "he answer is",
 * "final answer is", "答案是", else the last number; then clean and `strip_string` it (twice, as
 * run_execute does), with the multiple-choice fallbacks applied against the normalised gold.
 */
import { pyLstrip, pyRstrip, pyStrip, WORD_CLASS } from "./python_compat.ts";
import { stripString } from "./normalize.ts";

/** Stop strings of the authors' runs (RAST run.py; the qwen prompt types of math_eval). */
export const DEFAULT_STOP_STRINGS: string[] = [
  "</s>",
  "<|im_end|>",
  "<|endoftext|>",
  "assistant",
  "user",
  "_end",
  "_start",
];

/** Datasets whose answers keep unit words (the harness's STRIP_EXCEPTIONS). */
export const STRIP_EXCEPTIONS = ["carp_en", "minerva_math"];
const CHOICE_DATASETS = ["mmlu_stem", "sat_math", "aqua", "gaokao2023"];
const LETTERS = ["A", "B", "C", "D", "E"];
const LETTER_RE = new RegExp(`(?<![${WORD_CLASS}])(A|B|C|D|E)(?![${WORD_CLASS}])`, "gu");
const LAST_NUMBER_RE = /-?\p{Nd}*\.?\p{Nd}+/gu;

/** Whether `strip_string` keeps unit words for this dataset. */
export function skipsUnits(dataset: string): boolean {
  return STRIP_EXCEPTIONS.includes(dataset);
}

function letters(s: string): string[] {
  return [...s.toUpperCase().matchAll(LETTER_RE)].map((m) => m[1]);
}

/** The parser's `choice_answer_clean`: the chosen letter of a multiple-choice output. */
export function choiceAnswerClean(text: string): string {
  let pred = pyStrip(text, "\n");
  const triggers = ["choice is", "answer is"];
  if (triggers.some((t) => pred.split(t).length - 1 > 1)) pred = pred.split("\n\n")[0];
  const pieces = pred.split(/choice is|answer is/u);
  const answerFlag = pieces.length > 1;
  if (answerFlag) pred = pieces[pieces.length - 1];
  pred = pyLstrip(pyStrip(pyRstrip(pyRstrip(pyStrip(pred, "\n"), "."), "/"), " "), ":");
  const found = letters(pred);
  const options = found.length > 0 ? found : [pyStrip(pred.trim(), ".")];
  pred = answerFlag ? options[0] : options[options.length - 1];
  return pyRstrip(pyRstrip(pred, "."), "/");
}

/** The text after the last "boxed": brace-matched content, or up to the next `$`. */
function lastBoxed(text: string): string | null {
  const ans = text.slice(text.lastIndexOf("boxed") + "boxed".length);
  if (ans.length === 0) return null;
  if (ans[0] !== "{") return ans.split("$")[0].trim();
  let depth = 1;
  let out = "";
  for (const c of ans.slice(1)) {
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) break;
    out += c;
  }
  return out;
}

/**
 * The raw answer candidate of `extract_answer`, before cleaning; null where the harness returns
 * "" at once (a "boxed" at the very end of the text).
 */
export function extractCandidate(text: string, useLastNumber = true): string | null {
  const s = text.replaceAll("\u043a\u0438", "");
  if (s.includes("final answer is $") && s.includes("$. I hope")) {
    const after = s.slice(s.indexOf("final answer is $") + "final answer is $".length);
    return after.split("$. I hope")[0].trim();
  }
  if (s.includes("boxed")) return lastBoxed(s);
  if (s.includes("he answer is")) return s.split("he answer is").at(-1)!.trim();
  if (s.includes("final answer is")) return s.split("final answer is").at(-1)!.trim();
  if (s.includes("答案是")) return s.split("答案是")[1].trim().split("\n\n")[0].trim();
  if (!useLastNumber) return "";
  const numbers = s.replaceAll(",", "").match(LAST_NUMBER_RE);
  return numbers ? numbers[numbers.length - 1] : "";
}

/** The rest of `extract_answer` after the candidate: join lines, trim `:` `.` `/`, strip_string. */
export function finishCandidate(candidate: string, dataset: string): string {
  let pred = candidate;
  if (["sat_math", "aqua"].includes(dataset) || dataset.includes("mmlu")) {
    const found = letters(pred);
    pred = found.length > 0 ? found[found.length - 1] : pyStrip(pred.trim(), ".");
  }
  pred = pred.replace(/\n\s*/gu, "");
  if (pred.startsWith(":")) pred = pred.slice(1);
  if (pred.endsWith(".")) pred = pred.slice(0, -1);
  if (pred.endsWith("/")) pred = pred.slice(0, -1);
  return stripString(pred, skipsUnits(dataset));
}

/** The harness's `extract_answer(text, dataset)`: extracted and normalised once. */
export function extractAnswer(text: string, dataset: string, useLastNumber = true): string {
  if (CHOICE_DATASETS.includes(dataset)) return choiceAnswerClean(text);
  const candidate = extractCandidate(text, useLastNumber);
  return candidate === null ? "" : finishCandidate(candidate, dataset);
}

/** `(prompt + output.rstrip()).split(prompt)[-1].strip()` then cut at each stop string in turn. */
export function truncateAtStops(output: string, stops: readonly string[]): string {
  let code = output.trim();
  for (const stop of stops) {
    if (stop !== "" && code.includes(stop)) code = code.split(stop)[0].trim();
  }
  return code;
}

function isMultiChoice(answer: string): boolean {
  return Array.from(answer).every((c) => LETTERS.includes(c));
}

/**
 * The multiple-choice fix-ups of math_eval_pred against the normalised gold: a letter gold takes
 * the letter from the whole output; a gold made only of letters keeps only letters.
 */
export function applyChoiceRules(pred: string | null, gold: string, code: string): string | null {
  if (LETTERS.includes(gold) && (pred === null || !LETTERS.includes(pred))) {
    return choiceAnswerClean(code);
  }
  if (pred !== null && isMultiChoice(gold) && !isMultiChoice(pred)) {
    return Array.from(pred).filter((c) => LETTERS.includes(c)).join("");
  }
  return pred;
}

/**
 * The prediction the authors' pipeline grades for one model output: null where the output is
 * empty (their run_execute returns None, which never matches).
 */
export function predictionFromOutput(
  output: string,
  goldNormalised: string,
  opts: { dataset: string; stopStrings: readonly string[] },
): string | null {
  const code = truncateAtStops(output, opts.stopStrings);
  let pred: string | null = null;
  if (code !== "" && code !== "error") {
    pred = stripString(extractAnswer(code, opts.dataset), skipsUnits(opts.dataset));
  }
  return applyChoiceRules(pred, goldNormalised, code);
}

/** The prediction for an answer that was already extracted: cleaned and normalised as above. */
export function predictionFromAnswer(
  answer: string,
  goldNormalised: string,
  dataset: string,
): string | null {
  const pred = answer.trim() === ""
    ? null
    : stripString(finishCandidate(answer, dataset), skipsUnits(dataset));
  return applyChoiceRules(pred, goldNormalised, answer);
}
