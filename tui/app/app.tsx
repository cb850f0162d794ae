/**
 * The live app: a hook that pumps the engine's events into the reducer at a capped rate, and the
 * root component that adds keys and the terminal size to the pure view.
 */
import { useCallback, useEffect, useMemo, useReducer, useRef } from "react";
import { useInput, useStdin } from "ink";
import type { EngineEvent } from "../../engine/events.ts";
import type { MajRule, SampleVerdict } from "./accuracy.ts";
import { commandForKey } from "./keys.ts";
import { EventPump, type Grader } from "./pump.ts";
import { initialState, reduce, type TuiAction, type TuiLimits, type TuiState } from "./state.ts";
import { type QuestionSource, RastView } from "./components/rast_view.tsx";
import { PaletteContext } from "./components/lines.tsx";
import { colorFromEnv, makePalette } from "./palette.ts";
import { useTerminalSize } from "./terminal_size.ts";
import type { BehaviourList } from "../analysis/behaviours.ts";

/** Options of useEngineStream. */
export interface EngineStreamOptions {
  totalSamples: number;
  doneBefore?: number;
  grade?: Grader;
  limits?: Partial<TuiLimits>;
  /** Behaviour word list of the live analysis line (default tui/analysis/behaviours.json). */
  behaviours?: BehaviourList;
  /** Redraws per second at most (default 15). */
  maxFlushesPerSecond?: number;
  now?: () => number;
  /** The stream ended by itself (error undefined) or failed; not called after stop(). */
  onEnd?: (error?: unknown) => void;
}

/** What the app (and the key handler) can do to the stream. */
export interface StreamControls {
  /** Adds a verdict graded outside the pump. */
  verdict(verdict: SampleVerdict): void;
  /** Pauses (stops pulling from the engine) or resumes. */
  togglePause(): void;
  /** Stops pulling and closes the stream; resolves once its `finally` blocks ran. */
  stop(): Promise<void>;
}

/** Pumps `events` into the reducer in batches (at most maxFlushesPerSecond dispatches a second). */
export function useEngineStream(
  events: AsyncIterable<EngineEvent>,
  opts: EngineStreamOptions,
): { state: TuiState; dispatch: (action: TuiAction) => void; controls: StreamControls } {
  const now = opts.now ?? Date.now;
  const [state, dispatch] = useReducer(
    reduce,
    undefined,
    () =>
      initialState({
        now: now(),
        totalSamples: opts.totalSamples,
        doneBefore: opts.doneBefore,
        limits: opts.limits,
        behaviours: opts.behaviours,
      }),
  );
  const pumpRef = useRef<EventPump | undefined>(undefined);
  const endedRef = useRef(false);
  const optsRef = useRef(opts);
  optsRef.current = opts;

  useEffect(() => {
    const pump = new EventPump(events, {
      flush: (actions, at) => dispatch({ type: "batch", now: at, actions }),
      grade: optsRef.current.grade,
      maxFlushesPerSecond: optsRef.current.maxFlushesPerSecond,
      now,
    });
    pumpRef.current = pump;
    endedRef.current = false;
    pump.run().then(
      (end) => {
        endedRef.current = true;
        if (end === "stopped") return;
        dispatch({ type: "ended", now: now() });
        optsRef.current.onEnd?.();
      },
      (error: unknown) => {
        endedRef.current = true;
        const message = error instanceof Error ? error.message : String(error);
        dispatch({ type: "ended", now: now(), error: message });
        optsRef.current.onEnd?.(error);
      },
    );
    return () => void pump.stop();
  }, [events]);

  const ended = state.endedAt !== undefined;
  useEffect(() => {
    if (ended) return;
    const timer = setInterval(() => dispatch({ type: "tick", now: now() }), 1000);
    return () => clearInterval(timer);
  }, [ended]);

  const controls = useMemo<StreamControls>(() => ({
    verdict: (verdict) => pumpRef.current?.enqueue({ type: "verdict", verdict }),
    togglePause: () => {
      const pump = pumpRef.current;
      if (!pump || endedRef.current) return;
      if (pump.paused) pump.resume();
      else pump.pause();
      dispatch({ type: "togglePause", now: now() });
    },
    stop: () => pumpRef.current?.stop() ?? Promise.resolve(),
  }), []);
  return { state, dispatch, controls };
}

/** Props of RastApp. */
export interface RastAppProps extends EngineStreamOptions {
  /** The engine's stream; create it once (a new iterable restarts the pump). */
  events: AsyncIterable<EngineEvent>;
  questions?: QuestionSource;
  title?: string;
  samplesPerRequest?: number;
  ks?: readonly number[];
  /** Which maj@k the accuracy panel shows (default equivalence). */
  majRule?: MajRule;
  /** Terminal size; read from stdout (and followed on resize) when left out. */
  columns?: number;
  rows?: number;
  /** Colour on or off (default: off when NO_COLOR is set). */
  color?: boolean;
  /** `q` was pressed and the stream is stopped: save and exit. */
  onQuit?: () => void;
  /** Receives the stream controls once mounted (verdicts from outside, pause, stop). */
  bindControls?: (controls: StreamControls) => void;
}

/** The root component: stream, keys, terminal size, view. */
export function RastApp(props: RastAppProps) {
  const { state, dispatch, controls } = useEngineStream(props.events, props);
  const size = useTerminalSize();
  const { isRawModeSupported } = useStdin();
  const quitting = useRef(false);
  const { bindControls, onQuit } = props;

  useEffect(() => {
    bindControls?.(controls);
  }, [bindControls, controls]);

  const quit = useCallback(() => {
    if (quitting.current) return;
    quitting.current = true;
    dispatch({ type: "quitting" });
    void controls.stop().finally(() => onQuit?.());
  }, [controls, dispatch, onQuit]);

  useInput((input, key) => {
    const command = commandForKey(input, key);
    switch (command) {
      case undefined:
        return;
      case "quit":
        return quit();
      case "togglePause":
        return controls.togglePause();
      case "nextSample":
        return dispatch({ type: "selectNext" });
      case "previousSample":
        return dispatch({ type: "selectPrevious" });
      case "toggleHeatmap":
        return dispatch({ type: "togglePanel", panel: "heatmap" });
      case "toggleStats":
        return dispatch({ type: "togglePanel", panel: "stats" });
      case "toggleChosen":
        return dispatch({ type: "togglePanel", panel: "chosen" });
      case "toggleQuestion":
        return dispatch({ type: "togglePanel", panel: "question" });
      case "toggleHelp":
        return dispatch({ type: "toggleHelp" });
      case "closeHelp":
        return dispatch({ type: "closeHelp" });
      default: {
        const unreachable: never = command;
        throw new Error(`Unhandled key command ${unreachable}`);
      }
    }
  }, { isActive: isRawModeSupported });

  const palette = useMemo(() => makePalette(props.color ?? colorFromEnv()), [props.color]);
  return (
    <PaletteContext.Provider value={palette}>
      <RastView
        state={state}
        columns={props.columns ?? size.columns}
        rows={props.rows ?? size.rows}
        questions={props.questions}
        title={props.title}
        samplesPerRequest={props.samplesPerRequest}
        ks={props.ks}
        majRule={props.majRule}
      />
    </PaletteContext.Provider>
  );
}
