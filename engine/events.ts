/**
 * The engine's one output: a stream of typed events that the TUI, the headless batch mode and
 * the debugger all consume. No UI code lives in engine/.
 */

/** A token with its weighted logit delta Σ wᵢ(posᵢ − negᵢ), for the UI's boosted/suppressed lists. */
export interface TokenDelta {
  id: number;
  /** Decoded text of this token alone (may be a partial UTF-8 piece, shown as-is). */
  text: string;
  delta: number;
}

/** Per-step statistics of one sequence, computed in the shim next to the logits. */
export interface StepStats {
  /** log p_base(chosen) after temperature, before top-p. */
  baseLogprob: number;
  /** log p_combined(chosen) after temperature, before top-p. */
  combinedLogprob: number;
  /** Weighted delta of the chosen token (0 with no pairs). */
  delta: number;
  /** Top-K tokens by largest positive delta, largest first. */
  boosted: TokenDelta[];
  /** Top-K tokens by largest negative delta, most negative first. */
  suppressed: TokenDelta[];
  /** Entropy (nats) of the base distribution. */
  baseEntropy: number;
  /** Entropy (nats) of the combined distribution. */
  combinedEntropy: number;
  /** KL(combined ‖ base) in nats. */
  klCombinedBase: number;
  /** The base model's own argmax at this step (within the shared vocab): the chosen token
   * equals it when the steering kept the base's path. */
  baseArgmax: number;
}

export type FinishReason = "stop" | "length" | "cancelled";

export type EngineEvent =
  | { kind: "started"; request: number; sample: number; promptTokens: number }
  | {
    kind: "token";
    request: number;
    sample: number;
    /** Token id (base tokenizer). */
    id: number;
    /** Newly decodable text (may be "" while a UTF-8 sequence is incomplete). */
    text: string;
    stats: StepStats;
  }
  | {
    kind: "finished";
    request: number;
    sample: number;
    reason: FinishReason;
    /** The whole decoded completion (stop string removed). */
    text: string;
    tokens: number[];
  }
  | { kind: "error"; request?: number; message: string }
  | {
    kind: "progress";
    tokensPerSecond: number;
    active: number;
    waiting: number;
    /** Blocks of the paged KV pool in use, and in all. */
    memory: KvMemory;
  };

/** The paged KV pool's use: blocks held by sequences and prefixes, of blocksTotal. */
export interface KvMemory {
  blocksUsed: number;
  blocksTotal: number;
  blockSize: number;
}

/** One prompt to answer `samples` times. */
export interface GenerateRequest {
  /** Caller's index for this request (echoed in events as `request`). */
  request: number;
  /** Prompt token ids (base tokenizer). */
  promptIds: number[];
  /** Number of independent samples; they share one prefill. */
  samples: number;
  /** Which sample indices to run (default 0..samples-1); resume uses this to skip done ones. */
  sampleIndices?: number[];
  /** Base seed; sample s uses a seed derived from (seed, s). */
  seed: number;
}

/** Decoding options shared by all requests of one generate() call. */
export interface GenerateOptions {
  temperature: number;
  topP: number;
  topK?: number;
  maxNewTokens: number;
  stopIds?: number[];
  stopStrings?: string[];
  /** K of the boosted/suppressed lists in StepStats (default 8). */
  statsTopK?: number;
  signal?: AbortSignal;
}

/** What the app needs from an engine; a fake one with the same shape drives the TUI tests. */
export interface RastEngine {
  generate(requests: GenerateRequest[], options: GenerateOptions): AsyncIterable<EngineEvent>;
  /** Decode ids to text with the base tokenizer (or ids joined when there is none). */
  decode(ids: number[]): string;
  /** Encode text with the base tokenizer; throws when the model has no tokenizer. */
  encode(text: string): number[];
  close(): void;
}
