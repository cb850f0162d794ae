/**
 * A grading worker that fails every comparison it is sent (an uncaught exception, as a bug in
 * the symbolic stage would raise), for the tests that check failures are reported, not hidden.
 */
/// <reference lib="deno.worker" />

self.onmessage = () => {
  throw new Error("injected symbolic-stage failure");
};

self.postMessage({ ready: true });
