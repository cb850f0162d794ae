/**
 * Worker that grades one answer at a time: gold normalisation, extraction from the output,
 * and the full `math_equal` comparison, symbolic stage included, all under the grader's
 * deadline: the symbolic stage runs under the compute engine's own time limit (what is left of
 * `timeoutMs` since the request arrived), so a slow comparison ends here as a timeout and the
 * worker stays usable. The grader terminates a worker that still overruns (a backstop). Messages in: GradeRequest; out: {ready} once, then for each request an
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
  /** The limit for the whole grade, from when the worker receives it. */
  timeoutMs: number;
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

/** performance.now() at which the grade in progress runs out of time. */
let deadline = Infinity;
const symbolic = createSymbolicEqual(undefined, () => deadline - performance.now());

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
  deadline = performance.now() + request.timeoutMs;
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

// The compute engine builds its rule sets on first use (a second or more on a busy machine):
// done here, before "ready", so it never counts against an answer's limit.
symbolic("\\sqrt{8}", "2\\sqrt{2}");
self.postMessage({ ready: true });
