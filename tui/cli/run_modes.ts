/**
 * The two ways a run session is shown, shared by `run` and `demo`: the live TUI, or a progress
 * line on stderr (JSONL on stdout with json). Both stop early on a deadline; batch mode also on
 * Ctrl-C / SIGTERM, the TUI on `q`. Work done so far stays journalled either way.
 */
import type { EngineEvent, RastEngine } from "../../engine/events.ts";
import type { RunSession } from "../runs/mod.ts";
import { recordTokenStats, type TokenStatsRecorder } from "../analysis/token_stats.ts";
import { enableLiveScreen } from "./live_screen.ts";

/** How the shown part of a session ended. */
export interface ShowOutcome {
  /** The stream's error, if it failed. */
  failure?: string;
  stoppedBy?: "SIGINT" | "SIGTERM" | "quit" | "deadline";
}

/** Options of both modes. */
export interface ShowOptions {
  encode?: (text: string) => number[];
  /** Stop after this many milliseconds. */
  deadlineMs?: number;
  /** Saves the per-token records of finished samples (--save-stats). */
  recorder?: TokenStatsRecorder;
  /**
   * Per-token statistics: always in the TUI, which shows them; in batch mode only for the
   * recorder or when asked (demo --table counts path coverage from them).
   */
  stats?: boolean;
}

/** The session's events, through the recorder when there is one. */
function sessionEvents(
  session: RunSession,
  engine: RastEngine,
  opts: ShowOptions & { signal?: AbortSignal },
): AsyncIterable<EngineEvent> {
  const stats = opts.stats ?? Boolean(opts.recorder);
  const events = session.events(engine, { signal: opts.signal, encode: opts.encode, stats });
  return opts.recorder ? recordTokenStats(events, opts.recorder) : events;
}

const message = (err: unknown) => err instanceof Error ? err.message : String(err);

/** Batch mode: progress on stderr, JSONL on stdout with `json`. */
export async function showHeadless(
  session: RunSession,
  engine: RastEngine,
  opts: ShowOptions & { json?: boolean },
): Promise<ShowOutcome> {
  const { BatchReporter } = await import("./progress.ts");
  const numRuns = session.plan.config.numRuns;
  const reporter = new BatchReporter({
    totalSamples: session.total,
    doneBefore: session.doneBefore,
    json: Boolean(opts.json),
    countSaved: true,
    earlier: [...session.records.values()].filter((r) => r.sample < numRuns).map((r) => ({
      request: r.row,
      sample: r.sample,
      correct: r.verdict.correct,
      extracted: r.verdict.extracted || null,
    })),
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
  const stop = (why: NonNullable<ShowOutcome["stoppedBy"]>) => () => {
    stoppedBy ??= why;
    abort.abort();
  };
  const deadline = opts.deadlineMs === undefined
    ? undefined
    : setTimeout(stop("deadline"), opts.deadlineMs);
  const onSigint = stop("SIGINT");
  const onSigterm = stop("SIGTERM");
  Deno.addSignalListener("SIGINT", onSigint);
  Deno.addSignalListener("SIGTERM", onSigterm);
  try {
    const events = sessionEvents(session, engine, { ...opts, signal: abort.signal });
    for await (const event of events) reporter.event(event);
    return { stoppedBy };
  } catch (err) {
    return { failure: message(err), stoppedBy };
  } finally {
    clearTimeout(deadline);
    Deno.removeSignalListener("SIGINT", onSigint);
    Deno.removeSignalListener("SIGTERM", onSigterm);
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
  const { startTui } = await import("../app/mod.ts");
  const { dataset, config } = session.plan;
  const tui = startTui({
    events: sessionEvents(session, engine, { ...opts, stats: true }),
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
