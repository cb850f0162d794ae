/**
 * The TUI's one reducer: engine events, verdicts, key commands and clock ticks in, app state out.
 * Every panel renders from this state; the batch reporter reuses it for its progress line. Pure:
 * time comes in on the actions, never from the clock.
 */
import { type EngineEvent, sampleKey } from "../../engine/events.ts";

export { sampleKey };
import type { SampleVerdict } from "./accuracy.ts";
import { appendPiece } from "./piece_tail.ts";
import { addFinished, emptyAnalysis } from "./live_analysis.ts";
import { type BehaviourList, defaultBehaviours } from "../analysis/behaviours.ts";

import type {
  FinishedEntry,
  LiveSample,
  Step,
  TuiAction,
  TuiLimits,
  TuiState,
} from "./state_shape.ts";

export type * from "./state_shape.ts";
export type { Piece, PieceTail } from "./piece_tail.ts";
export { piecesOf } from "./piece_tail.ts";
export { type Throughput, throughput } from "./throughput.ts";

/** Defaults for TuiLimits. */
export const DEFAULT_LIMITS: TuiLimits = {
  maxPieces: 4096,
  heatSteps: 96,
  finishedTextLines: 4,
  maxErrors: 3,
};

/** The state before any event. */
export function initialState(
  opts: {
    now: number;
    totalSamples: number;
    doneBefore?: number;
    limits?: Partial<TuiLimits>;
    behaviours?: BehaviourList;
  },
): TuiState {
  return {
    now: opts.now,
    startedAt: opts.now,
    pausedMs: 0,
    paused: false,
    quitting: false,
    help: false,
    panels: { question: true, heatmap: true, chosen: true, stats: true },
    samples: new Map(),
    finished: [],
    verdicts: new Map(),
    totalSamples: opts.totalSamples,
    doneBefore: opts.doneBefore ?? 0,
    doneNow: 0,
    cancelled: 0,
    tokensSeen: 0,
    active: 0,
    waiting: 0,
    errors: [],
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
    analysis: emptyAnalysis(opts.behaviours ?? defaultBehaviours()),
  };
}

/** The reducer. Collections are copied on first write within one action, so a batch of many
 * token events costs one copy of each touched sample, not one per token. */
export function reduce(state: TuiState, action: TuiAction): TuiState {
  const draft = new Draft(state);
  draft.apply(action);
  return draft.next;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type LiveDraft = Mutable<LiveSample> & { steps: Step[] };

class Draft {
  next: Mutable<TuiState>;
  #samples?: Map<string, LiveSample>;
  #cloned = new Set<string>();
  #verdicts?: Map<number, ReadonlyMap<number, SampleVerdict>>;
  #finished?: FinishedEntry[];
  /** Entries from this index on were added by this action and are not on screen yet. */
  readonly #firstNewFinished: number;

  constructor(state: TuiState) {
    this.next = { ...state };
    this.#firstNewFinished = state.finished.length;
  }

  apply(action: TuiAction): void {
    const s = this.next;
    switch (action.type) {
      case "engine":
        return this.#engine(action.event);
      case "verdict":
        return this.#verdict(action.verdict);
      case "batch":
        s.now = action.now;
        for (const inner of action.actions) this.apply(inner);
        return;
      case "tick":
        s.now = action.now;
        return;
      case "togglePause":
        s.now = action.now;
        if (s.paused) {
          s.pausedMs += action.now - (s.pausedAt ?? action.now);
          s.pausedAt = undefined;
        } else {
          s.pausedAt = action.now;
        }
        s.paused = !s.paused;
        return;
      case "selectNext":
      case "selectPrevious": {
        const keys = [...s.samples.keys()];
        if (keys.length === 0) return;
        const at = s.selected === undefined ? -1 : keys.indexOf(s.selected);
        const step = action.type === "selectNext" ? 1 : -1;
        const from = at < 0 ? (step > 0 ? -1 : 0) : at;
        s.selected = keys[(from + step + keys.length) % keys.length];
        return;
      }
      case "togglePanel":
        s.panels = { ...s.panels, [action.panel]: !s.panels[action.panel] };
        return;
      case "toggleHelp":
        s.help = !s.help;
        return;
      case "closeHelp":
        s.help = false;
        return;
      case "ended":
        s.now = action.now;
        s.endedAt = action.now;
        if (action.error !== undefined) this.#error(action.error);
        return;
      case "quitting":
        s.quitting = true;
        return;
      default: {
        const unreachable: never = action;
        throw new Error(`Unknown TUI action ${JSON.stringify(unreachable)}`);
      }
    }
  }

  #engine(event: EngineEvent): void {
    const s = this.next;
    switch (event.kind) {
      case "started": {
        const live = this.#live(event.request, event.sample);
        live.promptTokens = event.promptTokens;
        return;
      }
      case "token": {
        const live = this.#live(event.request, event.sample);
        live.tokens++;
        s.tokensSeen++;
        const { stats } = event;
        if (!stats) return; // a batch run asks for none: its progress line needs only the counts
        if (stats.baseArgmax === event.id) live.onBasePath++;
        if (event.text !== "") {
          const piece = { text: event.text, delta: stats.delta };
          live.pieces = appendPiece(live.pieces, piece, s.limits.maxPieces);
        }
        live.steps.push({
          id: event.id,
          text: event.text,
          delta: stats.delta,
          boosted: stats.boosted,
          suppressed: stats.suppressed,
        });
        if (live.steps.length > s.limits.heatSteps) live.steps.shift();
        live.chosen = {
          id: event.id,
          text: event.text,
          baseProb: Math.exp(stats.baseLogprob),
          combinedProb: Math.exp(stats.combinedLogprob),
          delta: stats.delta,
          baseEntropy: stats.baseEntropy,
          combinedEntropy: stats.combinedEntropy,
          kl: stats.klCombinedBase,
        };
        return;
      }
      case "finished": {
        const key = sampleKey(event.request, event.sample);
        const samples = this.#samplesForWrite();
        const order = [...samples.keys()];
        const live = samples.get(key);
        if (event.reason !== "cancelled") {
          const counts = { tokens: live?.tokens ?? 0, onBasePath: live?.onBasePath ?? 0 };
          s.analysis = addFinished(s.analysis, { ...counts, text: event.text });
        }
        samples.delete(key);
        if (s.selected === key) {
          const rest = order.slice(order.indexOf(key) + 1).concat(
            order.slice(0, order.indexOf(key)),
          );
          s.selected = rest[0];
        }
        if (event.reason === "cancelled") s.cancelled++;
        else s.doneNow++;
        this.#finishedForWrite().push({
          key,
          request: event.request,
          sample: event.sample,
          reason: event.reason,
          tokens: event.tokens.length,
          text: lastLines(event.text, s.limits.finishedTextLines),
        });
        return;
      }
      case "error":
        this.#error(
          event.request === undefined
            ? event.message
            : `request ${event.request}: ${event.message}`,
        );
        return;
      case "progress":
        s.engineTokensPerSecond = event.tokensPerSecond;
        s.active = event.active;
        s.waiting = event.waiting;
        s.memory = { ...event.memory };
        return;
      default: {
        const unreachable: never = event;
        throw new Error(`Unknown engine event ${JSON.stringify(unreachable)}`);
      }
    }
  }

  #verdict(verdict: SampleVerdict): void {
    this.#verdicts ??= new Map(this.next.verdicts);
    this.next.verdicts = this.#verdicts;
    const bySample = new Map(this.#verdicts.get(verdict.request));
    bySample.set(verdict.sample, verdict);
    this.#verdicts.set(verdict.request, bySample);
    // A verdict that arrives with its finished event shows in the scrollback line too.
    const key = sampleKey(verdict.request, verdict.sample);
    const finished = this.next.finished;
    for (let i = finished.length - 1; i >= this.#firstNewFinished; i--) {
      if (finished[i].key !== key) continue;
      this.#finishedForWrite()[i] = { ...finished[i], verdict };
      break;
    }
  }

  #error(message: string): void {
    this.next.errors = [...this.next.errors, message].slice(-this.next.limits.maxErrors);
  }

  #samplesForWrite(): Map<string, LiveSample> {
    this.#samples ??= new Map(this.next.samples);
    this.next.samples = this.#samples;
    return this.#samples;
  }

  #finishedForWrite(): FinishedEntry[] {
    this.#finished ??= [...this.next.finished];
    this.next.finished = this.#finished;
    return this.#finished;
  }

  /** The sample, cloned once for this action; created when its first event is not "started". */
  #live(request: number, sample: number): LiveDraft {
    const key = sampleKey(request, sample);
    const samples = this.#samplesForWrite();
    const existing = samples.get(key);
    if (existing && this.#cloned.has(key)) return existing as LiveDraft;
    const live: LiveDraft = existing ? { ...existing, steps: [...existing.steps] } : {
      key,
      request,
      sample,
      promptTokens: 0,
      tokens: 0,
      onBasePath: 0,
      pieces: { log: [], start: 0, end: 0 },
      steps: [],
    };
    samples.set(key, live);
    this.#cloned.add(key);
    this.next.selected ??= key;
    return live;
  }
}

/** The last `count` non-blank lines of text; all of them for Infinity. */
export function lastLines(text: string, count: number): string {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  return count >= lines.length ? lines.join("\n") : lines.slice(lines.length - count).join("\n");
}

/** The selected live sample, if any. */
export function selectedSample(state: TuiState): LiveSample | undefined {
  return state.selected === undefined ? undefined : state.samples.get(state.selected);
}
