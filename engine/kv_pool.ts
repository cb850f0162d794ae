/**
 * Sizing the paged KV pool: from --kv-memory, or from the device's free memory after the
 * weights times --gpu-memory-utilization (vLLM's meaning) on CUDA, or a share of physical
 * memory on CPU; never more blocks than the work can use, never fewer than one longest
 * sequence needs.
 */
import { UserError } from "./errors.ts";

/** Default block size: the flash kernel's paged path wants multiples of 256 on CUDA. */
export const defaultBlockSize = (device: string): number => (device.startsWith("cuda") ? 256 : 16);

/** Default share of a GPU's memory rast may use in all (vLLM's default). */
export const DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;

/** On CPU the pool takes at most this share of the memory available now. */
const CPU_SHARE = 0.25;

export interface PoolRequest {
  /** K/V bytes per position of every model together. */
  bytesPerPosition: number;
  blockSize: number;
  device: string;
  /** Total and free bytes of the device now (after the weights loaded). */
  memory: { total: number; free: number };
  kvMemoryBytes?: number;
  gpuMemoryUtilization?: number;
  /** Bytes the step needs beside the pool (logits and sampling buffers at full concurrency). */
  activationBytes: number;
  /** Positions of the longest sequence (longest prompt + max new tokens). */
  maxSequence: number;
  /** The most sequences that can run at once: min(--max-concurrent, samples). */
  concurrency: number;
}

export interface PoolSize {
  blocks: number;
  blockSize: number;
  bytes: number;
  /** How the budget was chosen, for the start-up line. */
  source: string;
}

const GiB = 2 ** 30;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(2)} GiB`;

export function sizePool(r: PoolRequest): PoolSize {
  const blockBytes = r.bytesPerPosition * r.blockSize;
  let budget: number, source: string;
  if (r.kvMemoryBytes !== undefined) {
    budget = r.kvMemoryBytes;
    source = `--kv-memory ${gib(budget)}`;
  } else if (r.device.startsWith("cuda")) {
    const util = r.gpuMemoryUtilization ?? DEFAULT_GPU_MEMORY_UTILIZATION;
    const used = r.memory.total - r.memory.free;
    budget = r.memory.total * util - used - r.activationBytes;
    source = `${util} of ${gib(r.memory.total)} GPU memory, ${gib(used)} in use`;
  } else {
    budget = r.memory.free * CPU_SHARE;
    source = `${CPU_SHARE} of ${gib(r.memory.free)} available memory`;
  }
  const perSequence = Math.ceil(r.maxSequence / r.blockSize);
  // Beyond every admitted sequence at full length plus one prompt's prefix nothing is used.
  const useful = r.concurrency * perSequence + perSequence;
  const blocks = Math.min(Math.floor(Math.max(0, budget) / blockBytes), useful);
  if (blocks < perSequence) {
    throw new UserError(
      `The KV pool (${source}) holds ${blocks} blocks of ${r.blockSize} positions, but one ` +
        `sequence of ${r.maxSequence} positions needs ${perSequence}; raise --kv-memory or ` +
        `--gpu-memory-utilization, or lower --max-tokens`,
    );
  }
  return { blocks, blockSize: r.blockSize, bytes: blocks * blockBytes, source };
}

/** The start-up line: the pool and the concurrency it allows. */
export function poolNotice(size: PoolSize, maxSequence: number, maxConcurrent: number): string {
  const tokens = size.blocks * size.blockSize;
  const full = Math.floor(size.blocks / Math.ceil(maxSequence / size.blockSize));
  return `KV pool: ${size.blocks} blocks of ${size.blockSize} = ${tokens} tokens, ` +
    `${gib(size.bytes)} (${size.source}); at most ${maxConcurrent} sequences at once, ` +
    `${full} even at the full ${maxSequence} positions`;
}
