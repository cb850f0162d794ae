/**
 * A deterministic engine for the TUI and batch tests: it replays a scripted event list behind the
 * real RastEngine interface, one event per pull, and records how far it was pulled.
 */
import type {
  EngineEvent,
  FinishReason,
  GenerateOptions,
  GenerateRequest,
  RastEngine,
  StepStats,
  TokenDelta,
} from "../../engine/events.ts";

/** A script: fixed events, or events made from the generate() call. */
export type Script =
  | readonly EngineEvent[]
  | ((requests: GenerateRequest[], options: GenerateOptions) => EngineEvent[]);

/** RastEngine over a script; see the module comment. */
export class FakeEngine implements RastEngine {
  /** Events handed out so far (each one needed a pull). */
  yielded = 0;
  /** Set when the stream's finally block ran (stream ended, returned or aborted). */
  streamClosed = false;
  closed = false;
  readonly calls: { requests: GenerateRequest[]; options: GenerateOptions }[] = [];
  readonly #script: Script;
  readonly #delayMs: number;

  constructor(script: Script, opts: { delayMs?: number } = {}) {
    this.#script = script;
    this.#delayMs = opts.delayMs ?? 0;
  }

  generate(requests: GenerateRequest[], options: GenerateOptions): AsyncIterable<EngineEvent> {
    this.calls.push({ requests, options });
    const events = typeof this.#script === "function"
      ? this.#script(requests, options)
      : this.#script;
    return this.#stream(events, options.signal);
  }

  async *#stream(events: readonly EngineEvent[], signal?: AbortSignal) {
    try {
      for (const event of events) {
        if (signal?.aborted) return;
        if (this.#delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
        this.yielded++;
        yield event;
      }
    } finally {
      this.streamClosed = true;
    }
  }

  /** Token ids shown as "<id>" (the fake has no vocabulary). */
  decode(ids: number[]): string {
    return ids.map((id) => `<${id}>`).join("");
  }

  /** One id per UTF-16 code unit. */
  encode(text: string): number[] {
    return [...text].map((ch) => ch.codePointAt(0) ?? 0);
  }

  close(): void {
    this.closed = true;
  }
}

/** A token step as tests write it. */
export interface ScriptToken {
  text: string;
  id?: number;
  delta?: number;
  baseProb?: number;
  combinedProb?: number;
  boosted?: [id: number, text: string, delta: number][];
  suppressed?: [id: number, text: string, delta: number][];
}

/** A "token" event with full StepStats; unspecified numbers are fixed, plain values. */
export function tokenEvent(request: number, sample: number, token: ScriptToken): EngineEvent {
  const list = (entries: [number, string, number][] | undefined): TokenDelta[] =>
    (entries ?? []).map(([id, text, delta]) => ({ id, text, delta }));
  const stats: StepStats = {
    baseLogprob: Math.log(token.baseProb ?? 0.5),
    combinedLogprob: Math.log(token.combinedProb ?? 0.5),
    delta: token.delta ?? 0,
    boosted: list(token.boosted),
    suppressed: list(token.suppressed),
    baseEntropy: 1,
    combinedEntropy: 0.5,
    klCombinedBase: 0.25,
    baseArgmax: 0,
  };
  return { kind: "token", request, sample, id: token.id ?? 0, text: token.text, stats };
}

/** started, one token event per entry, finished (reason "stop" unless given). */
export function scriptSample(opts: {
  request: number;
  sample: number;
  tokens: (ScriptToken | string)[];
  reason?: FinishReason;
  promptTokens?: number;
}): EngineEvent[] {
  const tokens = opts.tokens.map((t) => typeof t === "string" ? { text: t } : t);
  return [
    {
      kind: "started",
      request: opts.request,
      sample: opts.sample,
      promptTokens: opts.promptTokens ?? 10,
    },
    ...tokens.map((t) => tokenEvent(opts.request, opts.sample, t)),
    {
      kind: "finished",
      request: opts.request,
      sample: opts.sample,
      reason: opts.reason ?? "stop",
      text: tokens.map((t) => t.text).join(""),
      tokens: tokens.map((t, i) => t.id ?? i),
    },
  ];
}

/** Round-robin merge of several samples' events, as a batching engine would emit them. */
export function interleave(...scripts: EngineEvent[][]): EngineEvent[] {
  const out: EngineEvent[] = [];
  const longest = Math.max(0, ...scripts.map((s) => s.length));
  for (let i = 0; i < longest; i++) for (const s of scripts) if (i < s.length) out.push(s[i]);
  return out;
}
