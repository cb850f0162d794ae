/**
 * A RAST group over the shim: a base model and (positive, negative, weight) pairs that step
 * together over one set of block tables (every model holds a KV pool of the same shape);
 * combine and sampling run where the logits are.
 */
import { cString, groupError, lib, readJson, unwrap } from "../ffi/lib.ts";
import type { Model } from "./model.ts";
import { NativeHandle } from "../ffi/handle.ts";
import {
  type Batch,
  batchStruct,
  readStepStats,
  type Sampling,
  samplingStruct,
  STEP_STATS_BYTES,
  type StepCost,
} from "../ffi/structs.ts";

export type { Sampling, StepCost } from "../ffi/structs.ts";

/** One steering pair: weight · (positive − negative) is added to the base logits. */
export interface Pair {
  positive: Model;
  negative: Model;
  weight: number;
}

/** Caller-owned outputs of a step; stats and logits are optional. */
export interface StepBuffers {
  tokens: Int32Array;
  stats?: Float32Array;
  logits?: Float32Array;
}

/** What rast_group_configure takes. */
export interface GraphSettings {
  cudaGraphs: boolean;
  maxBatch: number;
  maxSeqLen: number;
  /** Pipelined steps take fed tokens on the device (default on a GPU) or from the host. */
  deviceFeed?: boolean;
}

/** What rast_group_info says of the graphs. */
export interface GraphsInfo {
  enabled: boolean;
  maxBatch: number;
  maxSeqLen: number;
  /** Batch buckets captured so far. */
  captured: number[];
  /** Why capture failed and graphs went off, else null. */
  disabled: string | null;
}

/** Floats per sequence in the statistics buffer (RAST_STATS_WIDTH). */
export const statsWidth = (k: number): number => 7 + 4 * k;

const pointerArray = (ptrs: Deno.PointerValue[]) =>
  BigUint64Array.from(ptrs, (p) => BigInt(Deno.UnsafePointer.value(p)));

/** The RAST decoder's device side. Borrows its models: close it before them. */
export class RastGroup {
  readonly #handle: NativeHandle;
  readonly sharedVocab: number;
  readonly baseVocab: number;

  constructor(readonly base: Model, readonly pairs: Pair[]) {
    const out = new BigUint64Array(1);
    unwrap(
      lib().rast_group_init(
        base.handle.live,
        new Uint8Array(pointerArray(pairs.map((p) => p.positive.handle.live)).buffer),
        new Uint8Array(pointerArray(pairs.map((p) => p.negative.handle.live)).buffer),
        new Uint8Array(Float32Array.from(pairs, (p) => p.weight).buffer),
        pairs.length,
        new Uint8Array(out.buffer),
      ),
    );
    this.#handle = new NativeHandle(
      Deno.UnsafePointer.create(out[0]),
      "RAST group",
      (p) => lib().rast_group_free(p),
    );
    const shared = new Int32Array(1), full = new Int32Array(1);
    unwrap(lib().rast_group_vocab(this.#handle.live, shared, full), groupError(this.#handle.live));
    this.sharedVocab = shared[0];
    this.baseVocab = full[0];
    this.kvBytesPerPosition = Number(lib().rast_group_kv_bytes_per_position(this.#handle.live));
  }

  /** K/V bytes per cached position, every distinct model of the group together. */
  readonly kvBytesPerPosition: number;

  #live(): Deno.PointerValue {
    return this.#handle.live;
  }

  /** Runs a nonblocking call holding the group and every model it borrows. */
  #hold<T>(call: (pointer: Deno.PointerValue) => Promise<T>): Promise<T> {
    const models = [this.base, ...this.pairs.flatMap((p) => [p.positive, p.negative])];
    const holdAll = (i: number): Promise<T> =>
      i === models.length ? this.#handle.hold(call) : models[i].handle.hold(() => holdAll(i + 1));
    return holdAll(0);
  }

  /** Sets up every model's KV pool with the same shape: blocks of blockSize positions. */
  async initCache(blocks: number, blockSize: number): Promise<void> {
    await this.#hold(async (p) =>
      unwrap(await lib().rast_group_cache_init(p, blocks, blockSize), groupError(p))
    );
  }

  /**
   * CUDA graphs for decode steps (rast_group_configure): on, one graph per batch bucket up to
   * maxBatch sequences below maxSeqLen positions; off (`--enforce-eager`) runs every step
   * eagerly. Builds and models the graphs do not serve ignore it. Drops graphs captured so far.
   */
  configureGraphs(settings: GraphSettings): void {
    const text = JSON.stringify(settings);
    if (text === this.#graphSettings) return; // keep the graphs captured for these settings
    const p = this.#live();
    unwrap(lib().rast_group_configure(p, cString(text)), groupError(p));
    this.#graphSettings = text;
  }

  #graphSettings = "";

  /** The graphs' state: settings, the buckets captured, why capture stopped (if it did). */
  graphsInfo(): GraphsInfo {
    return this.#info().graphs;
  }

  /**
   * Of the steps waited for so far: those whose top-p nucleus outgrew the sampler's prefilter
   * (resampled with the full sort), and those run again (a pipelined step fed a corrected token).
   */
  stepCounts(): { resampled: number; rerun: number } {
    return this.#info().steps;
  }

  #info(): { graphs: GraphsInfo; steps: { resampled: number; rerun: number } } {
    const p = this.#live();
    return readJson(
      (buf, cap, len) => lib().rast_group_info(p, buf, cap, new Uint8Array(len.buffer)),
      groupError(p),
    ) as { graphs: GraphsInfo; steps: { resampled: number; rerun: number } };
  }

  /** Copies block src[i] into dst[i] in every model (copy on write of a shared block). */
  copyBlocks(src: Int32Array, dst: Int32Array): void {
    const p = this.#live();
    const n = Math.min(src.length, dst.length);
    unwrap(lib().rast_group_cache_copy_blocks(p, src, dst, n), groupError(p));
  }

  /** Fills the K/V of a batch (several prompts at once) in every model; no logits. */
  async prefill(batch: Batch): Promise<void> {
    const struct = batchStruct(batch);
    await this.#hold(async (p) =>
      unwrap(await lib().rast_group_prefill(p, struct.bytes), groupError(p))
    );
  }

  /** Runs every model on the batch, combines, samples one token per sequence. */
  async step(
    batch: Batch,
    seeds: BigUint64Array,
    sampling: Sampling,
    out: StepBuffers,
  ): Promise<void> {
    const n = batch.seqLens.length;
    if (out.tokens.length < n || seeds.length < n) throw new RangeError("step: buffers too small");
    if (out.stats && out.stats.length < n * statsWidth(sampling.statsK)) {
      throw new RangeError("step: stats buffer too small");
    }
    if (out.logits && out.logits.length < n * this.baseVocab) {
      throw new RangeError("step: logits buffer too small");
    }
    const struct = batchStruct(batch);
    const params = samplingStruct(sampling);
    await this.#hold(async (p) => {
      const code = await lib().rast_group_step(
        p,
        struct.bytes,
        seeds,
        params,
        out.tokens,
        out.stats ?? null,
        out.logits ?? null,
      );
      unwrap(code, groupError(p));
    });
  }

  /**
   * Launches a step without waiting for its tokens (rast_group_step_launch); `wait` hands them
   * over. feed[i] >= 0 gives sequence i the token sampled in row feed[i] of the step launched
   * just before, still on the device (its batch token is then ignored); -1 takes the batch's.
   * The next step may be launched before this one is waited for: the device runs it while the
   * host reads this one's tokens.
   */
  async launch(
    batch: Batch,
    seeds: BigUint64Array,
    sampling: Sampling,
    options: { feed?: Int32Array; stats?: boolean } = {},
  ): Promise<void> {
    const n = batch.seqLens.length;
    if (seeds.length < n || (options.feed && options.feed.length < n)) {
      throw new RangeError("launch: seeds or feed shorter than the batch");
    }
    const struct = batchStruct(batch);
    const params = samplingStruct(sampling);
    await this.#hold(async (p) => {
      const code = await lib().rast_group_step_launch(
        p,
        struct.bytes,
        options.feed ?? null,
        seeds,
        params,
        options.stats ? 1 : 0,
      );
      unwrap(code, groupError(p));
    });
    this.#launched.push({ n, statsFloats: options.stats ? n * statsWidth(sampling.statsK) : 0 });
  }

  /** Sizes of the launched steps' outputs, oldest first (the shim writes them unchecked). */
  readonly #launched: { n: number; statsFloats: number }[] = [];

  /** The oldest launched step's tokens (and statistics, if it was launched with them). */
  async wait(out: { tokens: Int32Array; stats?: Float32Array }): Promise<void> {
    const step = this.#launched[0];
    if (step && out.tokens.length < step.n) throw new RangeError("wait: tokens buffer too small");
    if (step && out.stats && out.stats.length < step.statsFloats) {
      throw new RangeError("wait: stats buffer too small");
    }
    await this.#hold(async (p) => {
      const code = await lib().rast_group_step_wait(p, out.tokens, out.stats ?? null);
      unwrap(code, groupError(p));
    });
    this.#launched.shift();
  }

  /**
   * Row `row` of the last step's logits: "base", "combined", or ["positive" | "negative", pair].
   * For the step debugger; copies one full vocab row.
   */
  lastLogits(
    which: "base" | "combined" | ["positive" | "negative", number],
    row: number,
  ): Float32Array {
    const index = which === "base"
      ? 0
      : which === "combined"
      ? 1
      : 2 + 2 * which[1] + (which[0] === "negative" ? 1 : 0);
    const model = typeof which === "string" ? this.base : this.pairs[which[1]]?.[which[0]];
    const out = new Float32Array(Math.max(model?.vocab ?? 0, this.baseVocab));
    const len = new BigInt64Array(1);
    unwrap(
      lib().rast_group_last_logits(
        this.#live(),
        index,
        row,
        out,
        BigInt(out.length),
        new Uint8Array(len.buffer),
      ),
      groupError(this.#live()),
    );
    return out.subarray(0, Number(len[0]));
  }

  /** What the last step cost: milliseconds of forward passes and of combine + sampling, and
   * the models' KV traffic, operator count and blocking copies. */
  lastStats(): StepCost {
    const out = new Uint8Array(STEP_STATS_BYTES);
    const p = this.#live();
    unwrap(lib().rast_group_last_stats(p, out), groupError(p));
    return readStepStats(out);
  }

  /** Milliseconds of the last step: the models' forward passes, and combine + sampling. */
  lastTiming(): { forwardMs: number; sampleMs: number } {
    const { forwardMs, sampleMs } = this.lastStats();
    return { forwardMs, sampleMs };
  }

  /** Frees the group (not its models) once no step runs; safe to call twice. */
  close(): void {
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
