/**
 * Continuous batching over the paged KV cache (nano-vllm's scheduler): prompts waiting for a
 * prefill, samples waiting to start, sequences decoding, and sequences preempted when the block
 * pool ran dry. Pure TypeScript; the decoder drives the device.
 *
 * A prompt is prefilled once (all but its last token) into prefix blocks; each of its samples
 * shares those blocks by reference and starts by feeding the prompt's last token, so n samples
 * cost one prefill plus n single-token steps; the partly filled last prefix block is copied on
 * the sample's first write. Admission is by free blocks: a sequence grows a block at a time, and
 * when none is free the most recently admitted sequences are preempted (their blocks freed) and
 * later resumed by prefilling their prompt and generated tokens again.
 */
import type { GenerateRequest } from "./events.ts";
import { type BlockId, BlockPool, prepareWrite } from "./block_pool.ts";

/** One prompt whose samples are still to start. */
export interface PromptJob {
  request: GenerateRequest;
  /** Sample indices not started yet, in order. */
  pending: number[];
  /** The prompt's prefix blocks once prefilled (the job holds one reference); null before. */
  prefix: BlockId[] | null;
}

/** One sample being decoded. */
export interface Sequence {
  request: number;
  sample: number;
  seed: bigint;
  promptIds: number[];
  /** Token to feed at the next step, and the position it occupies. */
  nextToken: number;
  position: number;
  promptLength: number;
  generated: number[];
  text: string;
  /** Its block table: position p lives in blocks[p / blockSize]. */
  blocks: BlockId[];
  /** Admission order (later admitted, earlier preempted). */
  admitted: number;
  /** It continues a checkpoint (GenerateRequest.resume) and has not been announced yet. */
  restored?: boolean;
}

/** One sequence of a prefill batch: the tokens to write from position 0. */
export interface PrefillItem {
  tokens: number[];
  blocks: BlockId[];
}

/** What one iteration prefills: preempted sequences coming back, and new prompts. */
export interface PrefillPlan {
  resumed: Sequence[];
  jobs: PromptJob[];
  items: PrefillItem[];
}

/** The queues and the block pool. */
export class Scheduler {
  readonly waiting: PromptJob[] = [];
  readonly active: Sequence[] = [];
  /** Preempted sequences, first preempted first resumed; they hold no blocks. */
  readonly preempted: Sequence[] = [];
  /** Sequences preempted so far (for the run's figures). */
  preemptions = 0;
  #admissions = 0;

  constructor(readonly pool: BlockPool, readonly maxConcurrent: number) {}

  /**
   * Queues every request's samples (all of them, or the given sampleIndices). A sample with
   * tokens in `request.resume` comes back the way a preempted one does: prompt and tokens so
   * far are prefilled again and decoding goes on from the next position.
   */
  enqueue(
    requests: GenerateRequest[],
    seedOf: (request: GenerateRequest, sample: number) => bigint = () => 0n,
  ): void {
    for (const request of requests) {
      const all = request.sampleIndices ?? Array.from({ length: request.samples }, (_, i) => i);
      const pending: number[] = [];
      for (const sample of all) {
        const tokens = request.resume?.get(sample);
        if (tokens && tokens.length > 0) {
          this.preempted.push(this.#restored(request, sample, seedOf(request, sample), tokens));
        } else pending.push(sample);
      }
      if (pending.length > 0) this.waiting.push({ request, pending, prefix: null });
    }
  }

  /** A sample continuing from `tokens` already generated, waiting as if preempted. */
  #restored(request: GenerateRequest, sample: number, seed: bigint, tokens: number[]): Sequence {
    const ids = request.promptIds;
    return {
      request: request.request,
      sample,
      seed,
      promptIds: ids,
      nextToken: tokens[tokens.length - 1],
      position: ids.length - 1 + tokens.length,
      promptLength: ids.length,
      generated: [...tokens],
      text: "",
      blocks: [],
      admitted: -1,
      restored: true,
    };
  }

  /** Samples not finished: decoding, preempted, and waiting. */
  get remaining(): number {
    return this.active.length + this.preempted.length +
      this.waiting.reduce((n, job) => n + job.pending.length, 0);
  }

  /**
   * Chooses what to prefill now and gives it blocks: preempted sequences first (oldest
   * first), then, once none is waiting, new prompts while free blocks and the concurrency
   * limit leave room for their samples. Several prompts share one prefill batch.
   */
  planPrefill(): PrefillPlan {
    const plan: PrefillPlan = { resumed: [], jobs: [], items: [] };
    let capacity = this.maxConcurrent - this.active.length;
    while (this.preempted.length > 0 && capacity > 0) {
      const seq = this.preempted[0];
      // Its KV again, plus a block to grow into.
      if (this.pool.blocksFor(seq.position) + 1 > this.pool.freeBlocks) break;
      this.preempted.shift();
      const history = [...seq.promptIds, ...seq.generated].slice(0, seq.position);
      seq.blocks = this.#allocate(this.pool.blocksFor(seq.position));
      seq.admitted = this.#admissions++;
      this.active.push(seq);
      plan.resumed.push(seq);
      if (history.length > 0) plan.items.push({ tokens: history, blocks: seq.blocks });
      capacity--;
    }
    if (this.preempted.length > 0) return plan;
    // A prompt whose samples have not all started keeps the next ones waiting.
    if (this.waiting.some((job) => job.prefix !== null)) return plan;
    for (const job of this.waiting) {
      if (capacity <= 0) break;
      const ids = job.request.promptIds;
      const prefixBlocks = this.pool.blocksFor(ids.length - 1);
      // The prefix, and a block for the first write of each sample that can start.
      const room = this.pool.freeBlocks - prefixBlocks;
      const starting = Math.min(job.pending.length, capacity, room);
      if (starting < 1) break;
      job.prefix = this.#allocate(prefixBlocks);
      plan.jobs.push(job);
      if (ids.length > 1) plan.items.push({ tokens: ids.slice(0, -1), blocks: job.prefix });
      capacity -= starting;
    }
    return plan;
  }

  /**
   * Starts samples of prefilled prompts while the concurrency limit and free blocks allow; each
   * shares its prompt's prefix blocks. A prompt's last sample drops the prompt's own reference.
   */
  startSamples(seedOf: (request: GenerateRequest, sample: number) => bigint): Sequence[] {
    const started: Sequence[] = [];
    if (this.preempted.length > 0) return started;
    for (const job of this.waiting) {
      if (job.prefix === null) continue;
      while (job.pending.length > 0 && this.active.length < this.maxConcurrent) {
        // Every sample started this round writes a block of its own at its first step.
        if (this.pool.freeBlocks <= started.length) break;
        const sample = job.pending.shift()!;
        const ids = job.request.promptIds;
        this.pool.retain(job.prefix);
        const sequence: Sequence = {
          request: job.request.request,
          sample,
          seed: seedOf(job.request, sample),
          promptIds: ids,
          nextToken: ids[ids.length - 1],
          position: ids.length - 1,
          promptLength: ids.length,
          generated: [],
          text: "",
          blocks: [...job.prefix],
          admitted: this.#admissions++,
        };
        this.active.push(sequence);
        started.push(sequence);
      }
      if (job.pending.length === 0) {
        this.pool.release(job.prefix);
        job.prefix = null;
      }
    }
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (this.waiting[i].pending.length === 0) this.waiting.splice(i, 1);
    }
    return started;
  }

  /**
   * Makes every active sequence's next position writable, oldest first: a new block at a block
   * boundary, a private copy of a shared block. When the pool is dry, a waiting prompt's prefix
   * is dropped first, then the most recently admitted sequences are preempted. Returns the
   * batch to step (oldest first) and the block copies to make before it. Sequences `skip`
   * names stay active but are not stepped (nor given room).
   */
  prepareStep(
    skip: (seq: Sequence) => boolean = () => false,
  ): { batch: Sequence[]; copies: [BlockId, BlockId][] } {
    const copies: [BlockId, BlockId][] = [];
    const order = [...this.active].sort((a, b) => a.admitted - b.admitted);
    const preempted = new Set<Sequence>();
    const skipped = new Set(order.filter(skip));
    for (const seq of order) {
      if (preempted.has(seq) || skipped.has(seq)) continue; // preempted for an older one, or skipped
      for (;;) {
        const copy = prepareWrite(this.pool, seq.blocks, seq.position);
        if (copy !== false) {
          if (copy) copies.push(copy);
          break;
        }
        if (this.#dropPrefix()) continue;
        const victim = this.active.reduce((a, b) => (b.admitted > a.admitted ? b : a));
        if (victim === seq && this.active.length === 1) {
          throw new RangeError(
            `The KV pool (${this.pool.blocks} blocks of ${this.pool.blockSize}) cannot hold one ` +
              `sequence of ${seq.position + 1} positions`,
          );
        }
        this.#preempt(victim);
        preempted.add(victim);
        if (victim === seq) break;
      }
    }
    const batch = order.filter((s) => !preempted.has(s) && !skipped.has(s));
    return { batch, copies };
  }

  /** Removes a finished sequence (decoding, or preempted with its last token on the way) and
   * returns its blocks. */
  finish(sequence: Sequence): void {
    const i = this.active.indexOf(sequence);
    if (i >= 0) this.active.splice(i, 1);
    const j = this.preempted.indexOf(sequence);
    if (j >= 0) this.preempted.splice(j, 1);
    this.pool.release(sequence.blocks);
    sequence.blocks = [];
  }

  #allocate(n: number): BlockId[] {
    return Array.from({ length: n }, () => this.pool.allocate());
  }

  /** Frees the prefix of a prompt whose remaining samples have not started (prefilled again
   * later); false when there is none. */
  #dropPrefix(): boolean {
    const job = this.waiting.find((j) => j.prefix !== null && j.pending.length > 0);
    if (!job) return false;
    this.pool.release(job.prefix!);
    job.prefix = null;
    return true;
  }

  #preempt(seq: Sequence): void {
    this.active.splice(this.active.indexOf(seq), 1);
    this.pool.release(seq.blocks);
    seq.blocks = [];
    this.preempted.push(seq);
    this.preemptions++;
  }
}
