/**
 * Continuous batching bookkeeping: the slot pool, prompts waiting for a prefill, samples
 * waiting for a slot, and sequences decoding. Pure TypeScript; the decoder drives the device.
 *
 * A prompt is prefilled once (all but its last token) into a prefix slot; each sample then
 * gets its own slot with that prefix copied in and starts by feeding the prompt's last token,
 * so n samples cost one prefill plus n single-token steps. The prefix slot is released when
 * the prompt's last sample has started (the last sample takes it over).
 */
import type { GenerateRequest } from "./events.ts";

/** One prompt whose samples are still to start. */
export interface PromptJob {
  request: GenerateRequest;
  /** Sample indices not started yet, in order. */
  pending: number[];
  /** Slot holding the prompt's prefix KV once prefilled (null before). */
  prefixSlot: number | null;
}

/** One sample being decoded. */
export interface Sequence {
  request: number;
  sample: number;
  slot: number;
  seed: bigint;
  /** Token to feed at the next step, and the position it occupies. */
  nextToken: number;
  position: number;
  promptLength: number;
  generated: number[];
  text: string;
}

/** The slot pool and the queues. */
export class Scheduler {
  readonly #free: number[];
  readonly waiting: PromptJob[] = [];
  readonly active: Sequence[] = [];

  constructor(readonly slots: number) {
    // Lowest slot first, so small runs touch few slots.
    this.#free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  get freeSlots(): number {
    return this.#free.length;
  }

  /** Queues every request's samples (all of them, or the given sampleIndices). */
  enqueue(requests: GenerateRequest[]): void {
    for (const request of requests) {
      const pending = request.sampleIndices ??
        Array.from({ length: request.samples }, (_, i) => i);
      if (pending.length > 0) {
        this.waiting.push({ request, pending: [...pending], prefixSlot: null });
      }
    }
  }

  /** Samples not finished: decoding plus waiting. */
  get remaining(): number {
    return this.active.length + this.waiting.reduce((n, job) => n + job.pending.length, 0);
  }

  /** The next prompt that needs a prefill, given a free slot for its prefix; null if none. */
  nextPrefill(): PromptJob | null {
    const job = this.waiting.find((j) => j.prefixSlot === null);
    if (!job || this.#free.length === 0) return null;
    // Keep one slot back for a started prompt's samples, unless nothing is running.
    const started = this.waiting.some((j) => j.prefixSlot !== null);
    if (started && this.#free.length < 2) return null;
    job.prefixSlot = this.#free.pop()!;
    return job;
  }

  /**
   * Starts as many samples of prefilled prompts as slots allow. Returns the new sequences with
   * whether their slot needs the prefix copied from `from` (the last sample reuses the prefix
   * slot itself).
   */
  startSamples(seedOf: (request: GenerateRequest, sample: number) => bigint) {
    const started: { sequence: Sequence; promptIds: number[]; copyFrom: number | null }[] = [];
    for (const job of this.waiting) {
      if (job.prefixSlot === null) continue;
      while (job.pending.length > 0) {
        const last = job.pending.length === 1;
        if (!last && this.#free.length === 0) break;
        const slot = last ? job.prefixSlot : this.#free.pop()!;
        const sample = job.pending.shift()!;
        const ids = job.request.promptIds;
        const sequence: Sequence = {
          request: job.request.request,
          sample,
          slot,
          seed: seedOf(job.request, sample),
          nextToken: ids[ids.length - 1],
          position: ids.length - 1,
          promptLength: ids.length,
          generated: [],
          text: "",
        };
        this.active.push(sequence);
        started.push({ sequence, promptIds: ids, copyFrom: last ? null : job.prefixSlot });
      }
    }
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i].pending.length === 0) this.waiting.splice(i, 1);
    }
    return started;
  }

  /** Removes a sequence and frees its slot. */
  finish(sequence: Sequence): void {
    const i = this.active.indexOf(sequence);
    if (i >= 0) this.active.splice(i, 1);
    // Kept in descending order so pop() hands out the lowest slot: active slots stay compact.
    this.#free.push(sequence.slot);
    this.#free.sort((a, b) => b - a);
  }
}
