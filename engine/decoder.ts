/**
 * The RAST decoder: turns generate(requests) into the engine's event stream, driving the RAST
 * group step by step with continuous batching. The per-step work in TypeScript is bookkeeping
 * on a few scalars per sequence; logits never leave the shim.
 */
import type {
  EngineEvent,
  FinishReason,
  GenerateOptions,
  GenerateRequest,
  RastEngine,
  StepStats,
} from "./events.ts";
import { type RastGroup, statsWidth } from "./group.ts";
import { Scheduler, type Sequence } from "./scheduler.ts";
import { StreamingDecoder, type Tokenizer } from "./tokenizer.ts";
import { sampleSeed } from "./seeds.ts";
import { UserError } from "./errors.ts";

/** Limits of the KV cache. */
export interface DecoderLimits {
  /** Sequences decoded at once (each holds a cache slot). */
  maxConcurrent: number;
  /** Bytes the KV caches of all models may take; bounds the slot count. */
  kvMemoryBytes?: number;
  /** Bytes of KV per position of one slot, all models together. */
  kvBytesPerPosition: number;
}

/** Counters for tests and benchmarks. */
export interface DecoderCounters {
  prefillCalls: number;
  prefillTokens: number;
  decodeSteps: number;
  decodeTokens: number;
}

const PROGRESS_INTERVAL_MS = 500;

export class RastDecoder implements RastEngine {
  readonly counters: DecoderCounters = {
    prefillCalls: 0,
    prefillTokens: 0,
    decodeSteps: 0,
    decodeTokens: 0,
  };
  readonly #pieceText = new Map<number, string>();
  /** The cache shape of the last generate() call (slots, positions per slot). */
  cacheShape = { slots: 0, maxLen: 0 };

  constructor(
    readonly group: RastGroup,
    readonly tokenizer: Tokenizer | null,
    readonly limits: DecoderLimits,
  ) {}

  decode(ids: number[]): string {
    return this.tokenizer ? this.tokenizer.decode(ids) : ids.join(" ");
  }

  encode(text: string): number[] {
    if (!this.tokenizer) {
      throw new UserError("This model has no tokenizer.json; pass token ids (--tokens) instead");
    }
    return this.tokenizer.encode(text);
  }

  close(): void {
    this.group.close();
  }

  /** Text of one token alone, for the boosted / suppressed lists (cached). */
  tokenText(id: number): string {
    let text = this.#pieceText.get(id);
    if (text === undefined) {
      text = this.tokenizer ? this.tokenizer.decode([id], { skipSpecialTokens: false }) : `<${id}>`;
      this.#pieceText.set(id, text);
    }
    return text;
  }

  /** Sizes the cache for these requests: slots and positions. */
  #cacheShape(requests: GenerateRequest[], options: GenerateOptions) {
    const longestPrompt = Math.max(...requests.map((r) => r.promptIds.length));
    const maxLen = longestPrompt + options.maxNewTokens;
    const samples = requests.reduce((n, r) => n + (r.sampleIndices?.length ?? r.samples), 0);
    let slots = Math.min(this.limits.maxConcurrent, samples + 1);
    if (this.limits.kvMemoryBytes !== undefined) {
      const perSlot = this.limits.kvBytesPerPosition * maxLen;
      slots = Math.min(slots, Math.floor(this.limits.kvMemoryBytes / perSlot));
      if (slots < 1) {
        throw new UserError(
          `The KV memory limit (${this.limits.kvMemoryBytes} bytes) is too small for one ` +
            `sequence of ${maxLen} positions (${perSlot} bytes); raise it or lower --max-tokens`,
        );
      }
    }
    return { slots: Math.max(1, slots), maxLen };
  }

  async *generate(
    requests: GenerateRequest[],
    options: GenerateOptions,
  ): AsyncGenerator<EngineEvent> {
    for (const r of requests) {
      if (r.promptIds.length === 0) {
        yield { kind: "error", request: r.request, message: "The prompt is empty" };
        return;
      }
    }
    if (requests.length === 0) return;
    const shape = this.#cacheShape(requests, options);
    await this.group.initCache(shape.slots, shape.maxLen);
    this.cacheShape = shape;
    const scheduler = new Scheduler(shape.slots);
    scheduler.enqueue(requests);
    const statsK = Math.min(options.statsTopK ?? 8, this.group.sharedVocab);
    const sampling = {
      temperature: options.temperature,
      topP: options.topP,
      topK: options.topK ?? 0,
      statsK,
    };
    const stopIds = new Set(options.stopIds ?? []);
    const stopStrings = (options.stopStrings ?? []).filter((s) => s.length > 0);
    const streams = new Map<Sequence, StreamingDecoder>();
    const width = statsWidth(statsK);
    let tokensSinceProgress = 0;
    let lastProgress = performance.now();

    // A stop string cuts the text where it starts; otherwise held-back bytes are flushed.
    const finished = (seq: Sequence, reason: FinishReason, cut = false): EngineEvent => {
      scheduler.finish(seq);
      const tail = streams.get(seq)?.flush() ?? "";
      streams.delete(seq);
      const text = cut ? seq.text : seq.text + tail;
      return {
        kind: "finished",
        request: seq.request,
        sample: seq.sample,
        reason,
        text,
        tokens: seq.generated,
      };
    };

    try {
      while (scheduler.remaining > 0) {
        if (options.signal?.aborted) {
          for (const seq of [...scheduler.active]) yield finished(seq, "cancelled");
          return;
        }
        // Prefill waiting prompts (all but the last token) while slots allow.
        for (let job = scheduler.nextPrefill(); job; job = scheduler.nextPrefill()) {
          const ids = job.request.promptIds;
          if (ids.length > 1) await this.#prefill(ids.slice(0, -1), job.prefixSlot!);
        }
        for (const { sequence, promptIds, copyFrom } of scheduler.startSamples(this.#seedOf)) {
          if (copyFrom !== null && sequence.position > 0) {
            this.group.copySlot(copyFrom, sequence.slot, sequence.position);
          }
          if (this.tokenizer) {
            streams.set(sequence, new StreamingDecoder(this.tokenizer, { context: promptIds }));
          }
          yield {
            kind: "started",
            request: sequence.request,
            sample: sequence.sample,
            promptTokens: sequence.promptLength,
          };
        }
        // In slot order: a batch on consecutive slots attends on the cache in place.
        const batch = [...scheduler.active].sort((a, b) => a.slot - b.slot);
        if (batch.length === 0) continue;
        const n = batch.length;
        const tokens = new Int32Array(n);
        const stats = new Float32Array(n * width);
        await this.group.step(
          {
            tokens: Int32Array.from(batch, (s) => s.nextToken),
            seqLens: new Int32Array(n).fill(1),
            slots: Int32Array.from(batch, (s) => s.slot),
            startPos: Int32Array.from(batch, (s) => s.position),
          },
          BigUint64Array.from(batch, (s) => s.seed),
          sampling,
          { tokens, stats },
        );
        this.counters.decodeSteps++;
        this.counters.decodeTokens += n;
        tokensSinceProgress += n;

        for (let i = 0; i < n; i++) {
          const seq = batch[i];
          const id = tokens[i];
          seq.generated.push(id);
          seq.nextToken = id;
          seq.position++;
          // Without a tokenizer the text is the ids, space-separated.
          const piece = streams.get(seq)?.push(id) ??
            `${seq.generated.length > 1 ? " " : ""}${id}`;
          seq.text += piece;
          yield {
            kind: "token",
            request: seq.request,
            sample: seq.sample,
            id,
            text: piece,
            stats: this.decodeStats(stats.subarray(i * width, (i + 1) * width), statsK),
          };
          const stopAt = findStop(seq.text, piece.length, stopStrings);
          if (stopIds.has(id)) {
            yield finished(seq, "stop");
          } else if (stopAt >= 0) {
            seq.text = seq.text.slice(0, stopAt);
            yield finished(seq, "stop", true);
          } else if (
            seq.generated.length >= options.maxNewTokens || seq.position >= shape.maxLen
          ) {
            yield finished(seq, "length");
          }
        }
        const now = performance.now();
        if (now - lastProgress >= PROGRESS_INTERVAL_MS) {
          const rate = tokensSinceProgress / ((now - lastProgress) / 1000);
          yield this.#progress(scheduler, rate, shape);
          tokensSinceProgress = 0;
          lastProgress = now;
        }
      }
    } catch (err) {
      yield { kind: "error", message: err instanceof Error ? err.message : String(err) };
    }
  }

  #seedOf = (request: GenerateRequest, sample: number): bigint => sampleSeed(request.seed, sample);

  async #prefill(ids: number[], slot: number): Promise<void> {
    const batch = {
      tokens: Int32Array.from(ids),
      seqLens: Int32Array.of(ids.length),
      slots: Int32Array.of(slot),
      startPos: Int32Array.of(0),
    };
    const models = [this.group.base, ...this.group.pairs.flatMap((p) => [p.positive, p.negative])];
    for (const model of new Set(models)) await model.forward(batch, "none");
    this.counters.prefillCalls++;
    this.counters.prefillTokens += ids.length;
  }

  /** One sequence's statistics row from the shim as StepStats. */
  decodeStats(row: Float32Array, k: number): StepStats {
    const list = (idsAt: number, deltasAt: number) =>
      Array.from({ length: k }, (_, j) => {
        const id = row[idsAt + j];
        return { id, text: this.tokenText(id), delta: row[deltasAt + j] };
      });
    return {
      baseLogprob: row[0],
      combinedLogprob: row[1],
      delta: row[2],
      baseEntropy: row[3],
      combinedEntropy: row[4],
      klCombinedBase: row[5],
      boosted: list(6, 6 + k),
      suppressed: list(6 + 2 * k, 6 + 3 * k),
    };
  }

  #progress(
    scheduler: Scheduler,
    tokensPerSecond: number,
    shape: { slots: number; maxLen: number },
  ): EngineEvent {
    const perPosition = this.limits.kvBytesPerPosition;
    const used = scheduler.active.reduce((n, s) => n + s.position * perPosition, 0);
    return {
      kind: "progress",
      tokensPerSecond,
      active: scheduler.active.length,
      waiting: scheduler.remaining - scheduler.active.length,
      memory: { kvUsedBytes: used, kvTotalBytes: perPosition * shape.slots * shape.maxLen },
    };
  }
}

/** Index where a stop string starts in text, looking only where the new piece could complete one. */
export function findStop(text: string, pieceLength: number, stops: string[]): number {
  let best = -1;
  for (const stop of stops) {
    const from = Math.max(0, text.length - pieceLength - stop.length + 1);
    const at = text.indexOf(stop, from);
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}
