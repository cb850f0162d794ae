/**
 * The structs of rast.h laid out in buffers (x86-64 / aarch64 LP64: 8-byte pointers and int64,
 * natural alignment). A struct holding pointers keeps its arrays referenced until the call that
 * reads it has returned (hold the returned object across the await).
 */

/** A ragged batch over block tables (rast_batch). */
export interface Batch {
  /** [sum(seqLens)] new tokens, concatenated. */
  tokens: Int32Array;
  /** [n] tokens each sequence brings (>= 1). */
  seqLens: Int32Array;
  /** [n] position of each sequence's first new token. */
  startPos: Int32Array;
  /** [n * maxBlocks] block ids: row i is sequence i's table. */
  blockTable: Int32Array;
  /** Row length of blockTable. */
  maxBlocks: number;
}

const address = (a: Int32Array) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(a)));

/** rast_batch { const int32_t *tokens, *seq_lens, *start_pos, *block_table; int32_t max_blocks,
 * n_seqs; } — 40 bytes. The returned object keeps the arrays alive while it is referenced. */
export function batchStruct(batch: Batch): { bytes: Uint8Array<ArrayBuffer>; keep: Batch } {
  const n = batch.seqLens.length;
  if (batch.startPos.length !== n || batch.blockTable.length < n * batch.maxBlocks) {
    throw new RangeError("batch: startPos and blockTable must cover every sequence");
  }
  const tokens = batch.seqLens.reduce((a, b) => a + b, 0);
  if (batch.tokens.length < tokens) throw new RangeError("batch: tokens shorter than seqLens say");
  const buffer = new ArrayBuffer(40);
  const view = new DataView(buffer);
  // An empty typed array has no address: point at a one-element stand-in (never read).
  const some = (a: Int32Array) => (a.length > 0 ? a : new Int32Array(1));
  [batch.tokens, batch.seqLens, batch.startPos, batch.blockTable].forEach((a, i) =>
    view.setBigUint64(8 * i, address(some(a)), true)
  );
  view.setInt32(32, batch.maxBlocks, true);
  view.setInt32(36, n, true);
  return { bytes: new Uint8Array(buffer), keep: batch };
}

/** Decoding settings of a step (rast_sampling). */
export interface Sampling {
  /** 0 means greedy. */
  temperature: number;
  topP: number;
  /** 0 means off. */
  topK: number;
  /** Length of the boosted / suppressed lists in the statistics. */
  statsK: number;
}

/** rast_sampling { float temperature, top_p; int32_t top_k, stats_k; } — 16 bytes. */
export function samplingStruct(s: Sampling): Uint8Array<ArrayBuffer> {
  const view = new DataView(new ArrayBuffer(16));
  view.setFloat32(0, s.temperature, true);
  view.setFloat32(4, s.topP, true);
  view.setInt32(8, s.topK, true);
  view.setInt32(12, s.statsK, true);
  return new Uint8Array(view.buffer);
}

/** What a forward pass cost (rast_forward_stats: five int64). */
export interface ForwardStats {
  ms: number;
  kvReadBytes: number;
  kvLiveBytes: number;
  ops: number;
  blockingCopies: number;
}

export const FORWARD_STATS_BYTES = 40;
export const STEP_STATS_BYTES = 16 + FORWARD_STATS_BYTES + 8;

export function readForwardStats(bytes: Uint8Array, offset = 0): ForwardStats {
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, FORWARD_STATS_BYTES);
  const at = (i: number) => Number(v.getBigInt64(8 * i, true));
  return {
    ms: at(0) / 1e6,
    kvReadBytes: at(1),
    kvLiveBytes: at(2),
    ops: at(3),
    blockingCopies: at(4),
  };
}

/** What a group step cost (rast_step_stats). */
export interface StepCost {
  forwardMs: number;
  sampleMs: number;
  models: ForwardStats;
  /** The batch bucket of the CUDA graph the step replayed; 0 when it ran eagerly. */
  graphBatch: number;
}

export function readStepStats(bytes: Uint8Array): StepCost {
  const v = new DataView(bytes.buffer, bytes.byteOffset, 16);
  return {
    forwardMs: Number(v.getBigInt64(0, true)) / 1e6,
    sampleMs: Number(v.getBigInt64(8, true)) / 1e6,
    models: readForwardStats(bytes, 16),
    graphBatch: Number(
      new DataView(bytes.buffer, bytes.byteOffset + 16 + FORWARD_STATS_BYTES, 8).getBigInt64(
        0,
        true,
      ),
    ),
  };
}
