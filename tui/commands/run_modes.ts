/**
 * The two ways a run session is shown, shared by `run` and `demo`: the live TUI, or a progress
 * line on stderr (JSONL on stdout with json). Both stop early on a deadline; batch mode also on
 * Ctrl-C / SIGTERM, the TUI on `q`. Work done so far stays journalled either way.
 */
import type { RastEngine } from "../../engine/events.ts";
import type { RunSession } from "../../engine/runs/mod.ts";
import { enableLiveScreen } from "./live_screen.ts";

/** How the shown part of a session ended. */
export interface ShowOutcome {
  /** The stream's error, if it failed. */
  failure?: string;
  stoppedBy?: "signal" | "quit" | "deadline";
}

/** Options of both modes. */
export interface ShowOptions {
  encode?: (text: string) => number[];
  /** Stop after this many milliseconds. */
  deadlineMs?: number;
}

const message = (err: unknown) => err instanceof Error ? err.message : String(err);

/** Batch mode: progress on stderr, JSONL on stdout with `json`. */
export async function showHeadless(
  session: RunSession,
  engine: RastEngine,
  opts: ShowOptions & { json?: boolean },
): Promise<ShowOutcome> {
  const { BatchReporter } = await import("../progress.ts");
  const reporter = new BatchReporter({
    totalSamples: session.total,
    doneBefore: session.doneBefore,
    json: Boolean(opts.json),
  });
  session.onSample((record) =>
    reporter.verdict({
      request: record.row,
      sample: record.sample,
      correct: record.verdict.correct,
      extracted: record.verdict.extracted || null,
    })
  );
  const abort = new AbortController();
  let stoppedBy: ShowOutcome["stoppedBy"];
  const stop = (why: "signal" | "deadline") => () => {
    stoppedBy ??= why;
    abort.abort();
  };
  const onSignal = stop("signal");
  const deadline = opts.deadlineMs === undefined
    ? undefined
    : setTimeout(stop("deadline"), opts.deadlineMs);
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  try {
    const events = session.events(engine, { signal: abort.signal, encode: opts.encode });
    for await (const event of events) reporter.event(event);
    return { stoppedBy };
  } catch (err) {
    return { failure: message(err), stoppedBy };
  } finally {
    clearTimeout(deadline);
    for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
    reporter.finish();
  }
}

/** Interactive mode: the live TUI over the same stream. */
export async function showInteractive(
  session: RunSession,
  engine: RastEngine,
  opts: ShowOptions & { title: string },
): Promise<ShowOutcome> {
  enableLiveScreen();
  const { startTui } = await import("../mod.ts");
  const { dataset, config } = session.plan;
  const tui = startTui({
    events: session.events(engine, { encode: opts.encode }),
    totalSamples: session.total,
    doneBefore: session.doneBefore,
    samplesPerRequest: config.numRuns,
    majRule: config.majRule,
    questions: new Map(dataset.rows.map((r) => [r.index, r.question])),
    title: opts.title,
    grade: async (event) => {
      const verdict = await session.verdict(event.request, event.sample);
      return verdict && { correct: verdict.correct, extracted: verdict.extracted || null };
    },
  });
  let timedOut = false;
  const deadline = opts.deadlineMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    tui.quit();
  }, opts.deadlineMs);
  try {
    const exit = await tui.done;
    return { stoppedBy: timedOut ? "deadline" : exit.reason === "quit" ? "quit" : undefined };
  } catch (err) {
    return { failure: message(err) };
  } finally {
    clearTimeout(deadline);
  }
}
