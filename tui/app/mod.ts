/**
 * The live TUI's entry points for the `run` and `demo` commands: startTui / runTui mount Ink over
 * an engine event stream; the headless reporter for --batch lives in progress.ts.
 */
import { createElement } from "react";
import { render, type RenderOptions } from "ink";
import type { EngineEvent } from "../../engine/events.ts";
import type { SampleVerdict } from "./accuracy.ts";
import { RastApp, type RastAppProps, type StreamControls } from "./app.tsx";

export type { SampleVerdict } from "./accuracy.ts";
export type { FinishedEvent, Grader } from "./pump.ts";
export type { QuestionSource } from "./components/rast_view.tsx";
export { RastApp, useEngineStream } from "./app.tsx";

/** Options of startTui / runTui. */
export interface TuiOptions
  extends Omit<RastAppProps, "events" | "onQuit" | "onEnd" | "bindControls" | "columns" | "rows"> {
  events: AsyncIterable<EngineEvent>;
  /** After `q`: the stream is already stopped (its finally blocks ran) and Ink unmounted;
   * save what is done here. runTui resolves once this settles. */
  onQuit?: () => void | Promise<void>;
  /** Streams for Ink (default: the process's). */
  stdout?: RenderOptions["stdout"];
  stdin?: RenderOptions["stdin"];
  stderr?: RenderOptions["stderr"];
}

/** How the TUI ended: the stream ran out, or the user quit. */
export interface TuiExit {
  reason: "done" | "quit";
}

/** A running TUI. */
export interface TuiSession {
  /** Adds a verdict graded outside (when no `grade` option was given). */
  verdict(verdict: SampleVerdict): void;
  /** Same as pressing `q`. */
  quit(): void;
  /** Settles when the TUI is gone: resolves with why, rejects with the stream's error. */
  done: Promise<TuiExit>;
}

/** Mounts the TUI over `opts.events`; see TuiSession. Ctrl-C quits like `q`. */
export function startTui(opts: TuiOptions): TuiSession {
  let controls: StreamControls | undefined;
  const early: SampleVerdict[] = [];
  let settle!: (exit: TuiExit) => void;
  let fail!: (error: unknown) => void;
  const done = new Promise<TuiExit>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  let finished = false;

  const finish = async (outcome: { exit: TuiExit } | { error: unknown }) => {
    if (finished) return;
    finished = true;
    // Let the last batch reach the screen before Ink unmounts (it keeps the final frame).
    await new Promise((resolve) => setTimeout(resolve, 50));
    instance.unmount();
    Deno.removeSignalListener("SIGINT", onSigint);
    if ("error" in outcome) return fail(outcome.error);
    try {
      if (outcome.exit.reason === "quit") await opts.onQuit?.();
      settle(outcome.exit);
    } catch (error) {
      fail(error);
    }
  };

  const { events, onQuit: _onQuit, stdout, stdin, stderr, ...appProps } = opts;
  const app = createElement(RastApp, {
    ...appProps,
    events,
    bindControls: (bound: StreamControls) => {
      controls = bound;
      for (const verdict of early.splice(0)) bound.verdict(verdict);
    },
    onQuit: () => void finish({ exit: { reason: "quit" } }),
    onEnd: (error?: unknown) =>
      void finish(error === undefined ? { exit: { reason: "done" } } : { error }),
  });
  // Only the streams given: an explicit undefined would override Ink's defaults.
  const instance = render(app, {
    exitOnCtrlC: false,
    ...(stdout && { stdout }),
    ...(stdin && { stdin }),
    ...(stderr && { stderr }),
  });
  let quitRequested = false;
  const quit = () => {
    if (quitRequested) return;
    quitRequested = true;
    // Without the app's own key path (raw mode off) stop the stream here.
    void (controls?.stop() ?? Promise.resolve()).finally(() =>
      finish({ exit: { reason: "quit" } })
    );
  };
  const onSigint = () => quit();
  Deno.addSignalListener("SIGINT", onSigint);

  return {
    verdict: (verdict) => controls ? controls.verdict(verdict) : early.push(verdict),
    quit,
    done,
  };
}

/** Runs the TUI until the stream ends or the user quits; see startTui. */
export function runTui(opts: TuiOptions): Promise<TuiExit> {
  return startTui(opts).done;
}
