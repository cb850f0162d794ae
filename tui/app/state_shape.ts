/**
 * The shape of the TUI's state and of the actions its reducer (state.ts) takes: what every panel
 * renders from. Types only.
 */
import type { EngineEvent, FinishReason, KvMemory, TokenDelta } from "../../engine/events.ts";
import type { SampleVerdict, VerdictTable } from "./accuracy.ts";
import type { PieceTail } from "./piece_tail.ts";
import type { LiveAnalysis } from "./live_analysis.ts";

/** One decoding step kept for the heatmap window. */
export interface Step {
  id: number;
  text: string;
  delta: number;
  boosted: readonly TokenDelta[];
  suppressed: readonly TokenDelta[];
}

/** The last chosen token of a sample: base vs combined probability (after temperature). */
export interface ChosenToken {
  id: number;
  text: string;
  baseProb: number;
  combinedProb: number;
  delta: number;
  baseEntropy: number;
  combinedEntropy: number;
  kl: number;
}

/** A sample being generated. */
export interface LiveSample {
  key: string;
  request: number;
  sample: number;
  promptTokens: number;
  tokens: number;
  /** Tokens equal to the base model's own argmax (path coverage). */
  onBasePath: number;
  /** The tail of the answer so far (at most limits.maxPieces pieces); read with piecesOf. */
  pieces: PieceTail;
  /** The last limits.heatSteps steps, oldest first. */
  steps: readonly Step[];
  chosen?: ChosenToken;
}

/** A finished sample, written once above the live panels (Ink's <Static>). */
export interface FinishedEntry {
  key: string;
  request: number;
  sample: number;
  reason: FinishReason;
  tokens: number;
  /** The end of the answer (its last limits.finishedTextLines non-blank lines). */
  text: string;
  verdict?: SampleVerdict;
}

/** Panels the user can toggle. */
export type PanelName = "question" | "heatmap" | "chosen" | "stats";

/** Bounds that keep memory flat over long runs. */
export interface TuiLimits {
  maxPieces: number;
  heatSteps: number;
  /** Lines of a finished answer's end written to the scrollback; Infinity for all of it. */
  finishedTextLines: number;
  maxErrors: number;
}

/** The whole UI state. */
export interface TuiState {
  now: number;
  startedAt: number;
  /** Time spent paused, excluded from rates and ETA. */
  pausedMs: number;
  pausedAt?: number;
  paused: boolean;
  endedAt?: number;
  quitting: boolean;
  help: boolean;
  panels: Readonly<Record<PanelName, boolean>>;
  /** Live samples in start order. */
  samples: ReadonlyMap<string, LiveSample>;
  selected?: string;
  finished: readonly FinishedEntry[];
  verdicts: VerdictTable;
  totalSamples: number;
  /** Samples done before this session (resume); counted as done, not in the rate. */
  doneBefore: number;
  /** Samples finished (stop or length) in this session. */
  doneNow: number;
  cancelled: number;
  tokensSeen: number;
  engineTokensPerSecond?: number;
  active: number;
  waiting: number;
  memory?: KvMemory;
  errors: readonly string[];
  limits: TuiLimits;
  /** Path coverage and behaviour counters of the finished samples (live_analysis.ts). */
  analysis: LiveAnalysis;
}

/** Everything the reducer understands. */
export type TuiAction =
  | { type: "engine"; event: EngineEvent }
  | { type: "verdict"; verdict: SampleVerdict }
  | { type: "batch"; now: number; actions: readonly TuiAction[] }
  | { type: "tick"; now: number }
  | { type: "togglePause"; now: number }
  | { type: "selectNext" }
  | { type: "selectPrevious" }
  | { type: "togglePanel"; panel: PanelName }
  | { type: "toggleHelp" }
  | { type: "closeHelp" }
  | { type: "ended"; now: number; error?: string }
  | { type: "quitting" };
