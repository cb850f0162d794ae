/** Throughput, progress and ETA derived from the TUI state. */

/** The fields of the TUI state (state.ts) the figures are derived from, in milliseconds. */
export interface ThroughputClock {
  now: number;
  startedAt: number;
  /** Time spent paused before the current pause. */
  pausedMs: number;
  pausedAt?: number;
  endedAt?: number;
  totalSamples: number;
  /** Samples finished before this session (a resumed run). */
  doneBefore: number;
  doneNow: number;
  tokensSeen: number;
  engineTokensPerSecond?: number;
}

/** Throughput numbers derived from the state at state.now. */
export interface Throughput {
  tokensPerSecond: number;
  done: number;
  total: number;
  /** Seconds of generation so far, pauses excluded. */
  elapsedSeconds: number;
  /** Seconds left at the rate of samples finished this session; undefined before the first. */
  etaSeconds?: number;
}

/** Tokens/s (the engine's own figure when it reported one), samples done / total and the ETA. */
export function throughput(state: ThroughputClock): Throughput {
  const until = state.pausedAt ?? state.endedAt ?? state.now;
  const elapsedSeconds = Math.max(0, until - state.startedAt - state.pausedMs) / 1000;
  const tokensPerSecond = state.engineTokensPerSecond ??
    (elapsedSeconds > 0 ? state.tokensSeen / elapsedSeconds : 0);
  const done = state.doneBefore + state.doneNow;
  const remaining = Math.max(0, state.totalSamples - done);
  const etaSeconds = state.doneNow > 0 ? remaining * elapsedSeconds / state.doneNow : undefined;
  return { tokensPerSecond, done, total: state.totalSamples, elapsedSeconds, etaSeconds };
}
