/**
 * Worker that runs one full `math_equal` comparison at a time, symbolic stage included. The
 * grader terminates it when a comparison overruns its deadline, so nothing here needs to be
 * interruptible. Messages in: {id, pred, gold}; out: {ready} once, then {id, correct, timeout}.
 */
/// <reference lib="deno.worker" />
import { mathEqual } from "./math_equal.ts";
import { createSymbolicEqual } from "./symbolic.ts";
import { TooExpensiveError } from "./py_expr.ts";

/** A comparison request. */
export interface CompareRequest {
  id: number;
  pred: string | null;
  gold: string;
}

/** A comparison result; `timeout` when Python would have run past any limit (9**9**9). */
export interface CompareResponse {
  id: number;
  correct: boolean;
  timeout: boolean;
  error?: string;
}

const symbolic = createSymbolicEqual();

self.onmessage = (event: MessageEvent<CompareRequest>) => {
  const { id, pred, gold } = event.data;
  let response: CompareResponse;
  try {
    response = { id, correct: mathEqual(pred, gold, { symbolic }), timeout: false };
  } catch (err) {
    const timeout = err instanceof TooExpensiveError;
    response = { id, correct: false, timeout, error: timeout ? undefined : String(err) };
  }
  self.postMessage(response);
};

self.postMessage({ ready: true });
