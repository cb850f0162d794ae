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
} from "./events.ts";
import { type RastGroup, statsWidth } from "./group.ts";
import { Scheduler, type Sequence } from "./scheduler.ts";
import { BlockPool, packTables } from "./block_pool.ts";
import { defaultBlockSize, poolNotice, type PoolSize, sizePool } from "./kv_pool.ts";
import { StreamingDecoder, type Tokenizer } from "./tokenizer.ts";
import { sampleSeed } from "./seeds.ts";
import { UserError } from "./errors.ts";
import { decodeStats, findStop, nonFiniteMessage } from "./step_rows.ts";

/** Limits of the KV pool and the batch. */
export interface DecoderLimits {
  /** Upper bound on sequences decoded at once (default 256); free blocks decide below it. */
  maxConcurrent: number;
  /** Bytes the KV pools of all models may take (else sized from the device's memory). */
  kvMemoryBytes?: number;
  /** Share of a GPU's memory rast may use in all (vLLM's --gpu-memory-utilization). */
  gpuMemoryUtilization?: number;
  /** Positions per block (default 256 on CUDA, 16 on CPU). */
  blockSize?: number;
  /** The device the base model runs on, and its memory now (after the weights loaded). */
  device: string;
  deviceMemory: () => { total: number; free: number };
  /** Receives the start-up line about the pool and the closing figures. */
  onNotice?: (message: string) => void;
  /** CUDA graphs for decode steps where the shim can (default true; `--enforce-eager` false). */
  cudaGraphs?: boolean;
  /** A pipelined step's tokens fed on the device (default on a GPU) or from the host. */
  deviceFeed?: boolean;
}

/** Counters for tests and benchmarks. */
export interface DecoderCounters {
  prefillCalls: number;
  prefillTokens: number;
  decodeSteps: number;
  decodeTokens: number;
  /** Most sequences in one decode step. */
  peakBatch: number;
  preemptions: number;
  /** Tokens sampled for sequences that had stopped one step before (pipelining's cost). */
  discardedTokens: number;
}

/** A decode step launched and not yet waited for: row i of its outputs is batch[i]'s. */
interface LaunchedStep {
  batch: Sequence[];
  out: { tokens: Int32Array; stats: Float32Array };
  /** Settles once the shim has issued the step (on a GPU, before the step has run). */
  launching: Promise<void>;
}

const PROGRESS_INTERVAL_MS = 500;

export class RastDecoder implements RastEngine {
  readonly counters: DecoderCounters = {
    prefillCalls: 0,
    prefillTokens: 0,
    decodeSteps: 0,
    decodeTokens: 0,
    peakBatch: 0,
    preemptions: 0,
    discardedTokens: 0,
  };
  readonly #pieceText = new Map<number, string>();
  /** The KV pool of the last generate() call. */
  pool: PoolSize | null = null;

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

  /** The most sequences these requests can run at once: min(--max-concurrent, samples). */
  #concurrency(requests: GenerateRequest[]): number {
    const samples = requests.reduce((n, r) => n + (r.sampleIndices?.length ?? r.samples), 0);
    return Math.min(this.limits.maxConcurrent, samples);
  }

  /** Sizes the KV pool for these requests. */
  #sizePool(requests: GenerateRequest[], options: GenerateOptions): PoolSize {
    const longestPrompt = Math.max(...requests.map((r) => r.promptIds.length));
    const concurrency = this.#concurrency(requests);
    const l = this.limits;
    // A CUDA graph keeps its step's buffers in a pool of its own, beside the eager steps' ones.
    const stepCopies = l.cudaGraphs !== false && l.device.startsWith("cuda") ? 2 : 1;
    return sizePool({
      bytesPerPosition: this.group.kvBytesPerPosition,
      blockSize: l.blockSize ?? defaultBlockSize(l.device),
      device: l.device,
      memory: l.deviceMemory(),
      kvMemoryBytes: l.kvMemoryBytes,
      gpuMemoryUtilization: l.gpuMemoryUtilization,
      // The step's float32 logits of every model plus softmax, sort and cumsum buffers.
      activationBytes: stepCopies * 8 * concurrency * this.group.baseVocab * 4 + 2 ** 30,
      maxSequence: longestPrompt + options.maxTokens,
      concurrency,
    });
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
    const size = this.#sizePool(requests, options);
    const maxLen = Math.max(...requests.map((r) => r.promptIds.length)) + options.maxTokens;
    await this.group.initCache(size.blocks, size.blockSize);
    this.group.configureGraphs({
      cudaGraphs: this.limits.cudaGraphs !== false,
      maxBatch: Math.max(1, this.#concurrency(requests)),
      maxSeqLen: maxLen,
      ...(this.limits.deviceFeed !== undefined ? { deviceFeed: this.limits.deviceFeed } : {}),
    });
    this.pool = size;
    this.limits.onNotice?.(poolNotice(size, maxLen, this.limits.maxConcurrent));
    const pool = new BlockPool(size.blocks, size.blockSize);
    const scheduler = new Scheduler(pool, this.limits.maxConcurrent);
    scheduler.enqueue(requests, this.#seedOf);
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
    const wantStats = options.stats ?? true;
    let tokensSinceProgress = 0;
    let lastProgress = performance.now();

    // Sequences that ended; a launched step's rows of them are dropped.
    const done = new Set<Sequence>();
    const dropped = (seq: Sequence) => {
      scheduler.finish(seq);
      streams.delete(seq);
      done.add(seq);
    };
    // A stop string cuts the text where it starts; otherwise held-back bytes are flushed.
    const finished = (seq: Sequence, reason: FinishReason, cut = false): EngineEvent => {
      const tail = streams.get(seq)?.flush() ?? "";
      dropped(seq);
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

    // Events wait here until the next step is launched (or the run ends), then go out.
    const events: EngineEvent[] = [];
    const flush = function* (): Generator<EngineEvent> {
      yield* events.splice(0);
    };

    // Steps are pipelined: step t+1 is launched before step t's tokens are read, its sequences
    // fed on the device from step t's samples, so the device runs while the host reads tokens,
    // checks stops and the consumer takes events. A sequence that stopped at step t then has one
    // token too many in step t+1, which is dropped. `launched` is the step not yet waited for;
    // `pending` its rows, by sequence (their next token is in it, position already advanced).
    let launched: LaunchedStep | null = null;
    let pending = new Map<Sequence, number>();
    const tokensSoFar = (seq: Sequence) => seq.generated.length + (pending.has(seq) ? 1 : 0);

    // Reads a launched step's tokens into its sequences (rows of finished ones are dropped).
    const take = async (step: LaunchedStep): Promise<void> => {
      await step.launching;
      await this.group.wait(wantStats ? step.out : { tokens: step.out.tokens });
      const { tokens, stats } = step.out;
      this.counters.decodeSteps++;
      for (let i = 0; i < step.batch.length; i++) {
        const seq = step.batch[i];
        if (done.has(seq)) {
          this.counters.discardedTokens++;
          continue;
        }
        this.counters.decodeTokens++;
        tokensSinceProgress++;
        const id = tokens[i];
        if (id < 0) {
          dropped(seq);
          events.push({
            kind: "error",
            request: seq.request,
            sample: seq.sample,
            message: nonFiniteMessage(this.group, id, seq.generated.length),
          });
          continue;
        }
        seq.generated.push(id);
        seq.nextToken = id;
        // Without a tokenizer the text is the ids, space-separated.
        const piece = streams.get(seq)?.push(id) ??
          `${seq.generated.length > 1 ? " " : ""}${id}`;
        seq.text += piece;
        events.push({
          kind: "token",
          request: seq.request,
          sample: seq.sample,
          id,
          text: piece,
          ...(wantStats
            ? {
              stats: decodeStats(
                stats.subarray(i * width, (i + 1) * width),
                statsK,
                (id) => this.tokenText(id),
              ),
            }
            : {}),
        });
        const stopAt = findStop(seq.text, piece.length, stopStrings);
        if (stopIds.has(id)) {
          events.push(finished(seq, "stop"));
        } else if (stopAt >= 0) {
          seq.text = seq.text.slice(0, stopAt);
          events.push(finished(seq, "stop", true));
        } else if (seq.generated.length >= options.maxTokens) {
          events.push(finished(seq, "length"));
        }
      }
    };

    try {
      while (scheduler.remaining > 0 || launched) {
        // Every call below must reach the shim after the launched step (a block it frees may be
        // written by that step's dropped rows); on a GPU a launch returns at once.
        if (launched) await launched.launching;
        if (options.signal?.aborted) {
          if (launched) await take(launched).catch(() => {});
          launched = null;
          for (const seq of [...scheduler.active, ...scheduler.preempted]) {
            if (!done.has(seq)) events.push(finished(seq, "cancelled"));
          }
          yield* flush();
          return;
        }
        // Prefill preempted sequences and new prompts (all but the last token) in one batch.
        const plan = scheduler.planPrefill();
        if (plan.items.length > 0) await this.#prefill(plan.items);
        const restored = plan.resumed.filter((seq) => seq.restored);
        const started = [...restored, ...scheduler.startSamples(this.#seedOf)];
        for (const sequence of started) {
          if (this.tokenizer) {
            const context = sequence.promptIds;
            streams.set(sequence, new StreamingDecoder(this.tokenizer, { context }));
          }
          events.push({
            kind: "started",
            request: sequence.request,
            sample: sequence.sample,
            promptTokens: sequence.promptLength,
          });
        }
        for (const seq of restored) {
          seq.restored = false;
          const stream = streams.get(seq);
          seq.text = seq.generated.map((id, i) => stream?.push(id) ?? `${i > 0 ? " " : ""}${id}`)
            .join("");
          // A checkpoint taken just before its sample finished has nothing left to decode.
          const last = seq.generated[seq.generated.length - 1];
          if (stopIds.has(last)) events.push(finished(seq, "stop"));
          else if (seq.generated.length >= options.maxTokens) events.push(finished(seq, "length"));
        }
        // Sequences whose last token is on its way are not stepped past the token limit.
        const { batch, copies } = scheduler.prepareStep((seq) =>
          tokensSoFar(seq) >= options.maxTokens
        );
        if (copies.length > 0) {
          this.group.copyBlocks(
            Int32Array.from(copies, (c) => c[0]),
            Int32Array.from(copies, (c) => c[1]),
          );
        }
        const before = launched;
        launched = null;
        if (batch.length > 0) {
          const n = batch.length;
          const feed = Int32Array.from(batch, (s) => pending.get(s) ?? -1);
          const tables = packTables(batch.map((s) => s.blocks));
          const step: LaunchedStep = {
            batch,
            out: { tokens: new Int32Array(n), stats: new Float32Array(wantStats ? n * width : 0) },
            launching: this.group.launch(
              {
                tokens: Int32Array.from(batch, (s, i) => (feed[i] >= 0 ? 0 : s.nextToken)),
                seqLens: new Int32Array(n).fill(1),
                startPos: Int32Array.from(batch, (s) => s.position),
                blockTable: tables.table,
                maxBlocks: tables.maxBlocks,
              },
              BigUint64Array.from(batch, (s) => s.seed),
              sampling,
              { feed: feed.some((j) => j >= 0) ? feed : undefined, stats: wantStats },
            ),
          };
          // An abandoned generator leaves the step to finish alone.
          step.launching.catch(() => {});
          for (const seq of batch) seq.position++;
          launched = step;
          this.counters.peakBatch = Math.max(this.counters.peakBatch, n);
        } else if (
          !before && plan.items.length === 0 && plan.jobs.length === 0 && started.length === 0
        ) {
          throw new Error("The scheduler made no progress (no sequence could be admitted)");
        }
        this.counters.preemptions = scheduler.preemptions;
        // The step before is read while this one runs; then the consumer takes the events.
        if (before) await take(before);
        pending = new Map(launched?.batch.map((seq, i) => [seq, i]) ?? []);
        const now = performance.now();
        if (now - lastProgress >= PROGRESS_INTERVAL_MS) {
          const rate = tokensSinceProgress / ((now - lastProgress) / 1000);
          events.push(this.#progress(scheduler, rate));
          tokensSinceProgress = 0;
          lastProgress = now;
        }
        yield* flush();
      }
      this.limits.onNotice?.(
        `decoded: at most ${this.counters.peakBatch} sequences in one step, ` +
          `${scheduler.preemptions} preemptions`,
      );
    } catch (err) {
      yield* flush();
      yield { kind: "error", message: err instanceof Error ? err.message : String(err) };
    } finally {
      // Leave no launched step in the shim (an error, or a consumer that stopped reading).
      if (launched) await take(launched).catch(() => {});
    }
  }

  #seedOf = (request: GenerateRequest, sample: number): bigint => sampleSeed(request.seed, sample);

  /** One forward of every model over several sequences from position 0 (no logits). */
  async #prefill(items: { tokens: number[]; blocks: number[] }[]): Promise<void> {
    const tables = packTables(items.map((i) => i.blocks));
    await this.group.prefill({
      tokens: Int32Array.from(items.flatMap((i) => i.tokens)),
      seqLens: Int32Array.from(items, (i) => i.tokens.length),
      startPos: new Int32Array(items.length),
      blockTable: tables.table,
      maxBlocks: tables.maxBlocks,
    });
    this.counters.prefillCalls++;
    this.counters.prefillTokens += items.reduce((n, i) => n + i.tokens.length, 0);
  }

  #progress(scheduler: Scheduler, tokensPerSecond: number): EngineEvent {
    const pool = scheduler.pool;
    return {
      kind: "progress",
      tokensPerSecond,
      active: scheduler.active.length,
      waiting: scheduler.remaining - scheduler.active.length,
      memory: { blocksUsed: pool.usedBlocks, blocksTotal: pool.blocks, blockSize: pool.blockSize },
    };
  }
}
