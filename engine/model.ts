/**
 * One loaded model over the shim: weights on a device, a paged KV cache (a pool of blocks the
 * caller addresses through block tables), and forward passes that write logits into
 * caller-owned buffers. No UI here.
 */
import { cString, lastError, lib, modelError, readJson, unwrap } from "../ffi/lib.ts";
import { LogitsMode } from "../ffi/symbols.ts";
import { NativeHandle } from "../ffi/handle.ts";
import {
  type Batch,
  batchStruct,
  FORWARD_STATS_BYTES,
  type ForwardStats,
  readForwardStats,
} from "../ffi/structs.ts";

export type { Batch } from "../ffi/structs.ts";

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
  /** Batch-invariant arithmetic: a sequence's logits never depend on what shares its batch. */
  deterministic?: boolean;
  /** The shim's own CUDA kernels for norm, rope + KV write and SiLU·mul where they apply
   * (default true; false keeps eager ATen ops, to compare against). */
  fusedKernels?: boolean;
  /** Read only config.json and draw random weights on the device (benchmarks of real shapes). */
  randomWeights?: boolean;
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
  deterministic: boolean;
  /** Whether the shim's CUDA kernels serve this model (bf16 / fp16 on a GPU, nvcc build). */
  fusedKernels: boolean;
  cacheBlocks: number;
  blockSize: number;
  cacheBytes: number;
  /** K/V bytes per cached position, all ranks. */
  kvBytesPerPosition: number;
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
    unwrap(lib().rast_model_create(new Uint8Array(out.buffer)), lastError);
    const pointer = Deno.UnsafePointer.create(out[0]);
    try {
      const code = await lib().rast_model_load(
        pointer,
        cString(dir),
        cString(JSON.stringify(options)),
      );
      unwrap(code, modelError(pointer));
    } catch (err) {
      lib().rast_model_free(pointer);
      throw err;
    }
    return new Model(pointer);
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

  /** Runs a nonblocking call with the handle held, reading its error before a deferred free. */
  async #run(call: (p: Deno.PointerValue) => Promise<number>): Promise<void> {
    await this.#handle.hold(async (p) => unwrap(await call(p), modelError(p)));
  }

  #readInfo(): ModelInfo {
    const handle = this.#live();
    return readJson(
      (buf, cap, len) => lib().rast_model_info(handle, buf, cap, new Uint8Array(len.buffer)),
      modelError(handle),
    ) as ModelInfo;
  }

  /** Allocates the KV pool: blocks of blockSize positions (a no-op when unchanged). */
  async initCache(blocks: number, blockSize: number): Promise<void> {
    await this.#run((p) => lib().rast_cache_init(p, blocks, blockSize));
    this.#info = this.#readInfo();
  }

  /** Bytes held by the KV cache. */
  cacheBytes(): number {
    return Number(lib().rast_cache_bytes(this.#live()));
  }

  /** Copies block src[i] into block dst[i] (copy on write of a shared block). */
  copyBlocks(src: Int32Array, dst: Int32Array): void {
    const p = this.#live();
    unwrap(
      lib().rast_cache_copy_blocks(p, src, dst, Math.min(src.length, dst.length)),
      modelError(p),
    );
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
    const struct = batchStruct(batch);
    const logitsMode = LogitsMode[mode === "last" ? "LAST" : mode === "all" ? "ALL" : "NONE"];
    await this.#run((p) => lib().rast_model_forward(p, struct.bytes, logitsMode, logits));
    return logits;
  }

  /** What the last forward cost inside the shim (the rest of a call is FFI + TS). */
  lastStats(): ForwardStats {
    const out = new Uint8Array(FORWARD_STATS_BYTES);
    const p = this.#live();
    unwrap(lib().rast_model_last_stats(p, out), modelError(p));
    return readForwardStats(out);
  }

  /** Milliseconds the last forward spent inside the shim. */
  lastForwardMs(): number {
    return this.lastStats().ms;
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

/** Total and free (available) bytes of a device: "cpu" or "cuda:N". */
export function deviceMemory(device: string): { total: number; free: number } {
  const total = new BigInt64Array(1), free = new BigInt64Array(1);
  unwrap(
    lib().rast_device_memory(
      cString(device),
      new Uint8Array(total.buffer),
      new Uint8Array(free.buffer),
    ),
  );
  return { total: Number(total[0]), free: Number(free[0]) };
}

/** Bytes libtorch's caching allocator held on a GPU at most since the last reset (reset: start a
 * new window after reading). */
export function devicePeakMemory(device: string, reset = false): number {
  const peak = new BigInt64Array(1);
  unwrap(
    lib().rast_device_peak_memory(cString(device), reset ? 1 : 0, new Uint8Array(peak.buffer)),
  );
  return Number(peak[0]);
}

/** A device's copy bandwidth in bytes (read + written) per second, over a buffer of `bytes`. */
export function deviceCopyBandwidth(device: string, bytes: number): number {
  const out = new Float64Array(1);
  unwrap(
    lib().rast_device_copy_bandwidth(cString(device), BigInt(bytes), new Uint8Array(out.buffer)),
  );
  return out[0];
}

/** Counts ATen operators in the shim while on (for benchmarks; it costs time). */
export function countOps(on: boolean): void {
  unwrap(lib().rast_count_ops(on ? 1 : 0));
}

/** The shim's build facts (torch version, CUDA, threads). */
export function runtimeInfo(): Record<string, unknown> {
  return readJson((buf, cap, len) => lib().rast_runtime_info(buf, cap, new Uint8Array(len.buffer)));
}
