/**
 * A RAST group over the shim: a base model and (positive, negative, weight) pairs that step
 * together over shared cache slots; combine and sampling run where the logits are.
 */
import { lib, unwrap } from "../ffi/lib.ts";
import type { Batch, Model } from "./model.ts";
import { NativeHandle } from "../ffi/handle.ts";

/** One steering pair: weight · (positive − negative) is added to the base logits. */
export interface Pair {
  positive: Model;
  negative: Model;
  weight: number;
}

/** Decoding settings for one step. */
export interface Sampling {
  /** 0 means greedy. */
  temperature: number;
  topP: number;
  /** 0 means off. */
  topK: number;
  /** Length of the boosted / suppressed lists in the statistics. */
  statsK: number;
}

/** Caller-owned outputs of a step; stats and logits are optional. */
export interface StepBuffers {
  tokens: Int32Array;
  stats?: Float32Array;
  logits?: Float32Array;
}

/** Floats per sequence in the statistics buffer (RAST_STATS_WIDTH). */
export const statsWidth = (k: number): number => 6 + 4 * k;

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
    unwrap(lib().rast_group_vocab(this.#handle.live, shared, full));
    this.sharedVocab = shared[0];
    this.baseVocab = full[0];
  }

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

  /** Sets up every model's KV cache with the same shape. */
  async initCache(slots: number, maxLen: number): Promise<void> {
    unwrap(await this.#hold((p) => lib().rast_group_cache_init(p, slots, maxLen)));
  }

  /** Copies positions [0, len) of slot src into dst in every model (prefix sharing). */
  copySlot(src: number, dst: number, len: number): void {
    unwrap(lib().rast_group_cache_copy(this.#live(), src, dst, len));
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
    const code = await this.#hold((p) =>
      lib().rast_group_step(
        p,
        batch.tokens,
        batch.seqLens,
        batch.slots,
        batch.startPos,
        n,
        seeds,
        sampling.temperature,
        sampling.topP,
        sampling.topK,
        sampling.statsK,
        out.tokens,
        out.stats ?? null,
        out.logits ?? null,
      )
    );
    unwrap(code);
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
    );
    return out.subarray(0, Number(len[0]));
  }

  /** Milliseconds of the last step: the models' forward passes, and combine + sampling. */
  lastTiming(): { forwardMs: number; sampleMs: number } {
    const forward = new BigInt64Array(1), sample = new BigInt64Array(1);
    unwrap(
      lib().rast_group_last_timing(
        this.#live(),
        new Uint8Array(forward.buffer),
        new Uint8Array(sample.buffer),
      ),
    );
    return { forwardMs: Number(forward[0]) / 1e6, sampleMs: Number(sample[0]) / 1e6 };
  }

  /** Frees the group (not its models) once no step runs; safe to call twice. */
  close(): void {
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
