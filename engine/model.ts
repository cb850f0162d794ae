/**
 * One loaded model over the shim: weights on a device, a KV cache of slots, and forward passes
 * that write logits into caller-owned buffers. No UI here.
 */
import { cString, lib, readJson, unwrap } from "../ffi/lib.ts";
import { LogitsMode } from "../ffi/symbols.ts";
import { NativeHandle } from "../ffi/handle.ts";

export type Dtype = "float32" | "bfloat16" | "float16";

/** How to load a model. */
export interface LoadOptions {
  /** Compute dtype (weights are converted once at load). Default: float32 on CPU, the
   * checkpoint's own on a GPU. */
  dtype?: Dtype;
  /** "cpu" or "cuda:N". Default: cuda:0 when the shim was built with CUDA, else cpu. */
  device?: string;
  /** CPU threads for libtorch (default: one per core). */
  threads?: number;
  /** Ranks the model is split across (Megatron-style); default 1. */
  tensorParallel?: number;
}

/** What the shim reports about a loaded model. */
export interface ModelInfo {
  dir: string;
  architecture: string;
  vocab: number;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  maxPositions: number;
  tiedEmbeddings: boolean;
  rope: { type: string; theta: number; factor: number };
  diskDtype: string;
  dtype: Dtype;
  device: string;
  parameters: number;
  tensorParallel: number;
  cacheSlots: number;
  cacheMaxLen: number;
  cacheBytes: number;
}

/** A ragged batch: sequence i brings seqLens[i] tokens at positions startPos[i].. of slots[i]. */
export interface Batch {
  tokens: Int32Array;
  seqLens: Int32Array;
  slots: Int32Array;
  startPos: Int32Array;
}

const registry = new FinalizationRegistry<Deno.PointerValue>((handle) => {
  if (handle) lib().rast_model_free(handle);
});

/** A model loaded by the shim; close it (or `using` it) to free its memory. */
export class Model {
  readonly #handle: NativeHandle;
  #info: ModelInfo;

  private constructor(pointer: Deno.PointerValue) {
    this.#handle = new NativeHandle(pointer, "model", (p) => lib().rast_model_free(p));
    this.#info = this.#readInfo();
    registry.register(this, pointer, this);
  }

  /** Loads a Hugging Face model folder; throws EngineError naming what is wrong. */
  static async load(dir: string, options: LoadOptions = {}): Promise<Model> {
    const out = new BigUint64Array(1);
    const code = await lib().rast_model_load(
      cString(dir),
      cString(JSON.stringify(options)),
      new Uint8Array(out.buffer),
    );
    unwrap(code);
    return new Model(Deno.UnsafePointer.create(out[0]));
  }

  /** Sizes and settings of the model (the cache fields are as of the last initCache). */
  get info(): ModelInfo {
    return this.#info;
  }

  get vocab(): number {
    return this.#info.vocab;
  }

  /** The shim handle, for RastGroup (engine-internal). */
  get handle(): NativeHandle {
    return this.#handle;
  }

  #live(): Deno.PointerValue {
    return this.#handle.live;
  }

  #readInfo(): ModelInfo {
    const handle = this.#live();
    return readJson((buf, cap, len) =>
      lib().rast_model_info(handle, buf, cap, new Uint8Array(len.buffer))
    ) as ModelInfo;
  }

  /** Allocates the KV cache (a no-op when the shape is unchanged). */
  async initCache(slots: number, maxLen: number): Promise<void> {
    unwrap(await this.#handle.hold((p) => lib().rast_cache_init(p, slots, maxLen)));
    this.#info = this.#readInfo();
  }

  /** Bytes held by the KV cache. */
  cacheBytes(): number {
    return Number(lib().rast_cache_bytes(this.#live()));
  }

  /** Copies positions [0, len) of slot src into slot dst. */
  copySlot(src: number, dst: number, len: number): void {
    unwrap(lib().rast_cache_copy(this.#live(), src, dst, len));
  }

  /**
   * Runs one forward pass. mode "last": out gets [n_seqs, vocab] (the last position of each
   * sequence); "all": [sum(seqLens), vocab]; "none": nothing.
   */
  async forward(batch: Batch, mode: "last" | "all" | "none", out?: Float32Array) {
    const n = batch.seqLens.length;
    const rows = mode === "all" ? batch.seqLens.reduce((a, b) => a + b, 0) : n;
    const logits = mode === "none"
      ? new Float32Array(0)
      : out ?? new Float32Array(rows * this.vocab);
    if (logits.length < (mode === "none" ? 0 : rows * this.vocab)) {
      throw new RangeError(
        `forward: out holds ${logits.length} floats, needs ${rows * this.vocab}`,
      );
    }
    const code = await this.#handle.hold((p) =>
      lib().rast_model_forward(
        p,
        batch.tokens,
        batch.seqLens,
        batch.slots,
        batch.startPos,
        n,
        LogitsMode[mode === "last" ? "LAST" : mode === "all" ? "ALL" : "NONE"],
        logits,
      )
    );
    unwrap(code);
    return logits;
  }

  /** Milliseconds the last forward spent inside the shim (the rest of a call is FFI + TS). */
  lastForwardMs(): number {
    return Number(lib().rast_model_last_forward_ns(this.#live())) / 1e6;
  }

  /** Frees the model (after a running call returns); safe to call twice. */
  close(): void {
    if (this.#handle.closed) return;
    registry.unregister(this);
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The shim's build facts (torch version, CUDA, threads). */
export function runtimeInfo(): Record<string, unknown> {
  return readJson((buf, cap, len) => lib().rast_runtime_info(buf, cap, new Uint8Array(len.buffer)));
}
