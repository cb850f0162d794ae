/**
 * The interactive `rast debug` app: keys drive a step source (engine/debugger.ts's StepDebugger
 * or anything with the same shape) and DebugView shows the latest step. Imports no engine code.
 */
import { createElement, useCallback, useMemo, useRef, useState } from "react";
import { type Key, render, useInput } from "ink";
import type { FinishReason } from "../../engine/events.ts";
import type { DebugStep } from "../../engine/debugger.ts";
import { DebugView } from "./components/debug_view.tsx";
import { PaletteContext } from "./components/lines.tsx";
import { colorFromEnv, makePalette } from "./palette.ts";
import { useTerminalSize } from "./terminal_size.ts";
import type { Piece } from "./piece_tail.ts";

/** What the app steps: StepDebugger's shape. */
export interface DebugStepper {
  step(): Promise<DebugStep | null>;
  readonly finished: FinishReason | null;
}

/** What a key asks for. */
export type DebugCommand = "step" | "sentence" | "end" | "quit";

/** The command bound to a key press, if any (the view's DEBUG_KEYS line lists them). */
export function debugCommandForKey(input: string, key: Key): DebugCommand | undefined {
  if (key.ctrl && input === "c") return "quit";
  if (key.ctrl || key.meta) return undefined;
  if (input === " " || input === "s" || key.return) return "step";
  if (input === "n") return "sentence";
  if (input === "e") return "end";
  if (input === "q") return "quit";
  return undefined;
}

/** Whether the answer just ended a sentence (as StepDebugger.toSentenceEnd decides). */
export function endsSentence(text: string): boolean {
  return /[.?!]\s*$|\n$/.test(text);
}

/** Props of DebugApp. */
export interface DebugAppProps {
  stepper: DebugStepper;
  question: string;
  title: string;
  /** Tokens shown per list. */
  k: number;
  /** Called with every step as it is decoded (for --trace). */
  onStep?: (step: DebugStep) => void;
  /** `q` was pressed and no step is in flight; an error ended the session if given. */
  onExit: (error?: unknown) => void;
  columns?: number;
  rows?: number;
  color?: boolean;
}

/** The root component: keys, decoding loop, terminal size, view. */
export function DebugApp(props: DebugAppProps) {
  const { stepper, onStep, onExit } = props;
  const [step, setStep] = useState<DebugStep>();
  const [busy, setBusy] = useState(false);
  const pieces = useRef<Piece[]>([]);
  const running = useRef(false);
  const quitting = useRef(false);
  const size = useTerminalSize();

  // What ends the current run; a key pressed mid-run replaces it (space stops after a token).
  const until = useRef<(step: DebugStep) => boolean>(() => true);
  const run = useCallback(async (stopWhen: (step: DebugStep) => boolean) => {
    until.current = stopWhen;
    if (running.current || stepper.finished) return;
    running.current = true;
    setBusy(true);
    try {
      let shownLength = pieces.current.reduce((n, p) => n + p.text.length, 0);
      while (!quitting.current) {
        const next = await stepper.step();
        if (!next) break;
        onStep?.(next);
        // The record's text is the answer so far; the new piece is what it added.
        pieces.current.push({ text: next.text.slice(shownLength), delta: next.chosen.delta });
        shownLength = next.text.length;
        setStep(next);
        if (next.finished || until.current(next)) break;
      }
    } catch (error) {
      quitting.current = true;
      onExit(error);
      return;
    } finally {
      running.current = false;
      setBusy(false);
    }
    if (quitting.current) onExit();
  }, [stepper, onStep, onExit]);

  useInput((input, key) => {
    const command = debugCommandForKey(input, key);
    switch (command) {
      case undefined:
        return;
      case "step":
        return void run(() => true);
      case "sentence":
        return void run((s) => endsSentence(s.text));
      case "end":
        return void run(() => false);
      case "quit":
        if (quitting.current) return;
        quitting.current = true;
        if (!running.current) onExit();
        return;
      default: {
        const unreachable: never = command;
        throw new Error(`Unhandled key command ${unreachable}`);
      }
    }
  });

  const status = stepper.finished ? `finished (${stepper.finished})` : busy ? "decoding…" : "ready";
  const palette = useMemo(() => makePalette(props.color ?? colorFromEnv()), [props.color]);
  return (
    <PaletteContext.Provider value={palette}>
      <DebugView
        step={step}
        pieces={pieces.current}
        question={props.question}
        title={props.title}
        status={status}
        k={props.k}
        columns={props.columns ?? size.columns}
        rows={props.rows ?? size.rows}
      />
    </PaletteContext.Provider>
  );
}

/** Mounts DebugApp and settles when the user quits (rejects if decoding failed). */
export function runDebugTui(
  props: Omit<DebugAppProps, "onExit" | "columns" | "rows">,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (error?: unknown) => {
      // Let the last frame reach the screen before Ink unmounts (it keeps the final frame).
      setTimeout(() => {
        instance.unmount();
        if (error === undefined) resolve();
        else reject(error);
      }, 50);
    };
    const instance = render(createElement(DebugApp, { ...props, onExit }), {
      exitOnCtrlC: false,
    });
  });
}
