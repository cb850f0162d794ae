/**
 * Worker that grades one answer at a time: gold normalisation, extraction from the output,
 * and the full `math_equal` comparison, symbolic stage included, all under the grader's
 * deadline. The grader terminates it when a grade overruns, so nothing here needs to be
 * interruptible. Messages in: GradeRequest; out: {ready} once, then for each request an
 * ExtractedMessage as soon as the answer is extracted, and a GradeResponse.
 */
/// <reference lib="deno.worker" />
import { predictionFromAnswer, predictionFromOutput } from "./extract.ts";
import { normalizeGold } from "./gold.ts";
import { mathEqual } from "./math_equal.ts";
import { createSymbolicEqual } from "./symbolic.ts";
import { TooExpensiveError } from "./py_expr.ts";

/**
 * What to grade: a full model output, an answer already cut out of one, or a prediction and a
 * gold both normalised already (then `dataset` and `stopStrings` are not used).
 */
export interface GradeRequest {
  id: number;
  mode: "output" | "answer" | "normalized";
  /** null: no answer (mode "normalized" only). */
  text: string | null;
  gold: string;
  dataset: string;
  stopStrings: readonly string[];
}

/** Sent once the prediction is extracted: what a timeout's verdict then reports. */
export interface ExtractedMessage {
  id: number;
  extracted: string;
  gold: string;
}

/** A grade; `timeout` when Python would have run past any limit (9**9**9). */
export interface GradeResponse extends ExtractedMessage {
  correct: boolean;
  timeout: boolean;
  error?: string;
}

const symbolic = createSymbolicEqual();

function grade(request: GradeRequest): GradeResponse {
  const { id, mode, text, dataset } = request;
  const gold = mode === "normalized" ? request.gold : normalizeGold(request.gold, dataset);
  const pred = mode === "normalized" || text === null
    ? text
    : mode === "output"
    ? predictionFromOutput(text, gold, { dataset, stopStrings: request.stopStrings })
    : predictionFromAnswer(text, gold, dataset);
  const extracted: ExtractedMessage = { id, extracted: pred ?? "", gold };
  self.postMessage(extracted);
  if (pred === null) return { ...extracted, correct: false, timeout: false };
  try {
    return { ...extracted, correct: mathEqual(pred, gold, { symbolic }), timeout: false };
  } catch (err) {
    const timeout = err instanceof TooExpensiveError;
    return { ...extracted, correct: false, timeout, error: timeout ? undefined : String(err) };
  }
}

self.onmessage = (event: MessageEvent<GradeRequest>) => {
  const request = event.data;
  let response: GradeResponse;
  try {
    response = grade(request);
  } catch (err) {
    // Extraction or normalisation failed: a bug to report, not a wrong answer to hide.
    const { id, gold } = request;
    response = { id, extracted: "", gold, correct: false, timeout: false, error: String(err) };
  }
  self.postMessage({ ...response, done: true });
};

self.postMessage({ ready: true });
