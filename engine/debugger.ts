/**
 * Single-question step debugger: decodes one answer a token at a time and, for every step,
 * reports the top tokens of the base, each positive and negative model, and the combination,
 * with probabilities (after temperature) and the weighted deltas. Copies full vocab rows out
 * of the shim, which is fine for one sequence under a human's eye.
 */
import type { FinishReason, StepStats } from "./events.ts";
import type { OpenedEngine } from "./mod.ts";
import { statsWidth } from "./group.ts";
import { StreamingDecoder } from "./tokenizer.ts";
import { sampleSeed } from "./seeds.ts";
import { decodeStats, findStop } from "./step_rows.ts";
import { SlotLayout } from "./block_pool.ts";
import { defaultBlockSize } from "./kv_pool.ts";

/** One entry of a top-k list. */
export interface TopToken {
  id: number;
  text: string;
  logit: number;
  /** Probability after temperature (T = 0 shows T = 1). */
  prob: number;
}

/** Everything about one decoding step. */
export interface DebugStep {
  step: number;
  /** Position of the chosen token in the sequence. */
  position: number;
  chosen: { id: number; text: string; baseProb: number; combinedProb: number; delta: number };
  base: TopToken[];
  combined: TopToken[];
  pairs: { weight: number; positive: TopToken[]; negative: TopToken[] }[];
  stats: StepStats;
  /** The answer so far. */
  text: string;
  /** Set on the last step. */
  finished?: FinishReason;
}

/** Decoding settings of a debug session. */
export interface DebugOptions {
  temperature: number;
  topP: number;
  topK?: number;
  seed: number;
  maxTokens: number;
  stopIds?: number[];
  stopStrings?: string[];
  /** Length of each top-k list (default 5). */
  k?: number;
}

/** Softmax top-k of one logit row (after temperature). */
export function topTokens(
  row: Float32Array,
  k: number,
  temperature: number,
  text: (id: number) => string,
): TopToken[] {
  const t = temperature > 0 ? temperature : 1;
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let total = 0;
  for (const v of row) total += Math.exp((v - max) / t);
  const best: number[] = [];
  for (let i = 0; i < row.length; i++) {
    if (best.length < k || row[i] > row[best[best.length - 1]]) {
      best.push(i);
      best.sort((a, b) => row[b] - row[a] || a - b);
      if (best.length > k) best.pop();
    }
  }
  return best.map((id) => ({
    id,
    text: text(id),
    logit: row[id],
    prob: Math.exp((row[id] - max) / t) / total,
  }));
}

export class StepDebugger {
  #step = 0;
  #position: number;
  #next: number[];
  #text = "";
  #done: FinishReason | null = null;
  readonly #stream: StreamingDecoder | null;
  readonly #seed: bigint;
  /** One sequence's worth of KV blocks. */
  readonly #layout: SlotLayout;

  constructor(
    readonly engine: OpenedEngine,
    readonly promptIds: number[],
    readonly options: DebugOptions,
  ) {
    if (promptIds.length === 0) throw new Error("The prompt is empty");
    this.#position = 0;
    this.#next = [...promptIds];
    this.#seed = sampleSeed(options.seed, 0);
    const limits = engine.decoder.limits;
    this.#layout = new SlotLayout(
      1,
      promptIds.length + options.maxTokens,
      limits.blockSize ?? defaultBlockSize(limits.device),
    );
    this.#stream = engine.tokenizer
      ? new StreamingDecoder(engine.tokenizer, { context: promptIds })
      : null;
  }

  get finished(): FinishReason | null {
    return this.#done;
  }

  /** Decodes one token; null once the answer has finished. */
  async step(): Promise<DebugStep | null> {
    if (this.#done) return null;
    const { engine, options } = this;
    const group = engine.decoder.group;
    if (this.#step === 0) {
      await group.initCache(this.#layout.blocks, this.#layout.blockSize);
    }
    const k = Math.min(options.k ?? 5, group.sharedVocab);
    const statsK = Math.min(8, group.sharedVocab);
    const tokens = new Int32Array(1);
    const stats = new Float32Array(statsWidth(statsK));
    await group.step(
      {
        tokens: Int32Array.from(this.#next),
        seqLens: Int32Array.of(this.#next.length),
        startPos: Int32Array.of(this.#position),
        ...this.#layout.tables([0]),
      },
      BigUint64Array.of(this.#seed),
      {
        temperature: options.temperature,
        topP: options.topP,
        topK: options.topK ?? 0,
        statsK,
      },
      { tokens, stats },
    );
    this.#position += this.#next.length;
    const id = tokens[0];
    this.#next = [id];
    const text = (i: number) => engine.decoder.tokenText(i);
    const top = (row: Float32Array) => topTokens(row, k, options.temperature, text);
    const piece = this.#stream ? this.#stream.push(id) : `${this.#step ? " " : ""}${id}`;
    this.#text += piece;
    const decoded = decodeStats(stats, statsK, text);
    const record: DebugStep = {
      step: this.#step++,
      position: this.#position,
      chosen: {
        id,
        text: text(id),
        baseProb: Math.exp(decoded.baseLogprob),
        combinedProb: Math.exp(decoded.combinedLogprob),
        delta: decoded.delta,
      },
      base: top(group.lastLogits("base", 0)),
      combined: top(group.lastLogits("combined", 0)),
      pairs: group.pairs.map((p, i) => ({
        weight: p.weight,
        positive: top(group.lastLogits(["positive", i], 0)),
        negative: top(group.lastLogits(["negative", i], 0)),
      })),
      stats: decoded,
      text: this.#text,
    };
    const stopAt = findStop(this.#text, piece.length, options.stopStrings ?? []);
    if ((options.stopIds ?? []).includes(id) || stopAt >= 0) {
      if (stopAt >= 0) this.#text = record.text = this.#text.slice(0, stopAt);
      this.#done = record.finished = "stop";
    } else if (this.#step >= options.maxTokens) {
      this.#done = record.finished = "length";
    }
    return record;
  }

  /** Steps until the answer ends a sentence (., ?, ! or a newline) or finishes. */
  async toSentenceEnd(): Promise<DebugStep[]> {
    const steps: DebugStep[] = [];
    for (let s = await this.step(); s; s = await this.step()) {
      steps.push(s);
      if (s.finished || /[.?!]\s*$|\n$/.test(s.text)) break;
    }
    return steps;
  }

  /** Steps until the answer finishes. */
  async toEnd(): Promise<DebugStep[]> {
    const steps: DebugStep[] = [];
    for (let s = await this.step(); s; s = await this.step()) steps.push(s);
    return steps;
  }
}
