/**
 * The grader: every answer is graded in a pool of workers, extraction and gold normalisation
 * included, with a deadline per answer (3 s by default, as the harness's ProcessPool), so no
 * answer however long or hostile can stall the caller (a run's decoding loop, `grade`). A
 * worker that overruns is terminated and replaced, and the answer reports `timeout: true`
 * (counted incorrect, as the harness counts it). A grade that throws, or a worker that dies,
 * reports `error` with the message (also counted incorrect, but never silently: metrics count
 * errors and verdicts.jsonl keeps each message).
 */
import { DEFAULT_STOP_STRINGS } from "./extract.ts";
import type { ExtractedMessage, GradeRequest, GradeResponse } from "./grade_worker.ts";

/** The outcome of grading one answer against its gold. */
export interface Verdict {
  /** The normalised prediction ("" when the output had no answer, or extraction timed out). */
  extracted: string;
  /** The normalised gold answer (as given when normalising it timed out). */
  gold: string;
  correct: boolean;
  /** The grade ran past its time limit (then `correct` is false). */
  timeout: boolean;
  /** The grade failed with this message (then `correct` is false); absent when it ran. */
  error?: string;
}

/** Grader settings. */
export interface GraderOptions {
  /** Time limit per answer in ms (default 3000, the harness's). */
  timeoutMs?: number;
  /** Worker threads (default: the number of CPUs, at most 8). */
  workers?: number;
  /** Model output is cut at the first of these (default DEFAULT_STOP_STRINGS). */
  stopStrings?: readonly string[];
  /** The worker module (default ./grade_worker.ts); tests point it at one that fails. */
  workerModule?: URL;
}

/** What a worker is asked, without the id the pool gives it. */
type Job = Omit<GradeRequest, "id" | "timeoutMs">;

/**
 * How long past its limit a worker may take to give up before it is terminated. At the limit
 * the verdict is "timeout" at once; the worker then stops by itself at its next deadline check
 * (the compute engine checks between its steps, so this takes up to about a second), and its
 * late answer is dropped. Terminating is the last resort: Deno 2.9 cannot stop a worker stuck
 * in a synchronous loop (denoland/deno#35657), which would keep a core busy for the whole run.
 */
const DRAIN_MS = 20_000;

interface Task {
  job: Job;
  /** What the verdict reports if the grade times out: updated once the worker extracted. */
  partial: { extracted: string; gold: string };
  resolve: (verdict: Verdict) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  running?: {
    id: number;
    task: Task;
    timer: ReturnType<typeof setTimeout>;
    /** Past its limit: the verdict was given, the worker has yet to give up. */
    expired?: boolean;
  };
}

/** Workers that each grade one answer at a time under a deadline. */
class WorkerPool {
  #slots: Slot[] = [];
  #queue: Task[] = [];
  #nextId = 0;
  #closed = false;
  #failure: Error | undefined;

  constructor(
    private readonly size: number,
    private readonly timeoutMs: number,
    private readonly module: URL,
  ) {}

  run(job: Job): Promise<Verdict> {
    if (this.#closed) return Promise.reject(new Error("The grader is closed; create a new one"));
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const partial = { extracted: "", gold: job.gold };
      this.#queue.push({ job, partial, resolve, reject });
      this.#pump();
    });
  }

  close(): void {
    this.#closed = true;
    for (const slot of this.#slots) {
      if (slot.running) clearTimeout(slot.running.timer);
      slot.worker.terminate();
    }
    this.#slots = [];
    for (const task of this.#queue.splice(0)) task.reject(new Error("The grader was closed"));
  }

  #spawn(): void {
    const worker = new Worker(this.module.href, {
      type: "module",
    });
    const slot: Slot = { worker, ready: false };
    type Message = { ready: true } | ExtractedMessage | (GradeResponse & { done: true });
    worker.onmessage = (event: MessageEvent<Message>) => {
      const message = event.data;
      if ("ready" in message) {
        slot.ready = true;
        this.#pump();
      } else if ("done" in message) this.#finish(slot, message);
      else if (slot.running?.id === message.id) {
        slot.running.task.partial = { extracted: message.extracted, gold: message.gold };
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#crashed(slot, new Error(`Grading worker failed: ${event.message}`));
    };
    this.#slots.push(slot);
  }

  #pump(): void {
    if (this.#closed) return;
    const idle = () => this.#slots.filter((s) => !s.running).length;
    while (this.#slots.length < this.size && idle() < this.#queue.length) this.#spawn();
    for (const slot of this.#slots) {
      if (!slot.ready || slot.running || this.#queue.length === 0) continue;
      const task = this.#queue.shift()!;
      const id = this.#nextId++;
      const timer = setTimeout(() => this.#expire(slot), this.timeoutMs);
      slot.running = { id, task, timer };
      const request: GradeRequest = { id, ...task.job, timeoutMs: this.timeoutMs };
      slot.worker.postMessage(request);
    }
  }

  #finish(slot: Slot, response: GradeResponse): void {
    const running = slot.running;
    if (!running || running.id !== response.id) return;
    clearTimeout(running.timer);
    slot.running = undefined;
    if (!running.expired) {
      const { extracted, gold, correct, timeout, error } = response;
      const verdict = { extracted, gold, correct, timeout };
      running.task.resolve(error === undefined ? verdict : { ...verdict, error });
    }
    this.#pump();
  }

  #expire(slot: Slot): void {
    const running = slot.running;
    if (!running) return;
    if (running.expired) { // it never gave up: the last resort
      this.#replace(slot);
      return;
    }
    running.expired = true;
    running.task.resolve({ ...running.task.partial, correct: false, timeout: true });
    running.timer = setTimeout(() => this.#expire(slot), DRAIN_MS);
  }

  #crashed(slot: Slot, err: Error): void {
    const running = slot.running;
    if (running) clearTimeout(running.timer);
    if (!slot.ready) {
      // the worker could not even start: every queued comparison would fail the same way
      this.#failure = err;
      this.#replace(slot, false);
      running?.task.reject(err);
      for (const task of this.#queue.splice(0)) task.reject(err);
      return;
    }
    this.#replace(slot);
    running?.task.resolve({
      ...running.task.partial,
      correct: false,
      timeout: false,
      error: err.message,
    });
  }

  #replace(slot: Slot, respawn = true): void {
    slot.worker.terminate();
    slot.running = undefined;
    this.#slots = this.#slots.filter((s) => s !== slot);
    if (respawn) this.#pump();
  }
}

/**
 * Grades model outputs or extracted answers against gold answers with the authors' harness
 * semantics. Reuse one grader for many comparisons (it caches verdicts of identical pairs) and
 * close it when done.
 */
export class Grader {
  readonly timeoutMs: number;
  readonly workers: number;
  readonly stopStrings: readonly string[];
  readonly #workerModule: URL;
  #pool: WorkerPool | undefined;
  #cache = new Map<string, Verdict>();
  #closed = false;

  constructor(opts: GraderOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 3000;
    // each worker holds its own compute engine (~100 MB): a few are plenty
    this.workers = Math.max(1, opts.workers ?? Math.min(navigator.hardwareConcurrency ?? 2, 8));
    this.stopStrings = opts.stopStrings ?? DEFAULT_STOP_STRINGS;
    this.#workerModule = opts.workerModule ?? new URL("./grade_worker.ts", import.meta.url);
  }

  /** Grade a full model output: cut at stop strings, extract, normalise, compare. */
  grade(output: string, gold: string, dataset = ""): Promise<Verdict> {
    return this.#run({ mode: "output", text: output, gold, dataset });
  }

  /** Grade an answer that was already extracted from the output. */
  gradePred(pred: string, gold: string, dataset = ""): Promise<Verdict> {
    return this.#run({ mode: "answer", text: pred, gold, dataset });
  }

  /** Compare a normalised prediction (null: no answer) with a normalised gold. */
  async compare(
    pred: string | null,
    gold: string,
  ): Promise<{ correct: boolean; timeout: boolean; error?: string }> {
    const { correct, timeout, error } = await this.#run({
      mode: "normalized",
      text: pred,
      gold,
      dataset: "",
    });
    return error === undefined ? { correct, timeout } : { correct, timeout, error };
  }

  /** Stop the workers. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#pool?.close();
    this.#pool = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** One grade in a worker; verdicts of identical requests that ran to the end are cached. */
  async #run(request: Omit<Job, "stopStrings">): Promise<Verdict> {
    const key = JSON.stringify([request.mode, request.dataset, request.gold, request.text]);
    const cached = this.#cache.get(key);
    if (cached) return { ...cached };
    if (this.#closed) throw new Error("The grader is closed; create a new one");
    this.#pool ??= new WorkerPool(this.workers, this.timeoutMs, this.#workerModule);
    const verdict = await this.#pool.run({ ...request, stopStrings: this.stopStrings });
    if (!verdict.timeout && verdict.error === undefined) this.#cache.set(key, verdict);
    return verdict;
  }
}
