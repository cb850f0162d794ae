/**
 * The grader: extraction and the cheap string/number stages run here; any comparison that needs
 * the symbolic stage runs in a pool of workers with a deadline per comparison (3 s by default,
 * as the harness's ProcessPool). A worker that overruns is terminated and replaced, and the
 * comparison reports `timeout: true` (counted incorrect, as the harness counts it). A comparison
 * that throws, or a worker that dies, reports `error` with the message (also counted incorrect,
 * but never silently: metrics count errors and verdicts.jsonl keeps each message).
 */
import { predictionFromAnswer, predictionFromOutput } from "./extract.ts";
import { normalizeGold } from "./gold.ts";
import { mathEqual } from "./math_equal.ts";
import { DEFAULT_STOP_STRINGS } from "./prompts.ts";
import type { CompareResponse } from "./grade_worker.ts";

/** The outcome of grading one answer against its gold. */
export interface Verdict {
  /** The normalised prediction ("" when the output had no answer). */
  extracted: string;
  /** The normalised gold answer. */
  gold: string;
  correct: boolean;
  /** The comparison ran past its time limit (then `correct` is false). */
  timeout: boolean;
  /** The comparison failed with this message (then `correct` is false); absent when it ran. */
  error?: string;
}

/** Grader settings. */
export interface GraderOptions {
  /** Time limit per comparison in ms (default 3000, the harness's). */
  timeoutMs?: number;
  /** Worker threads for symbolic comparisons (default: the number of CPUs, at most 8). */
  workers?: number;
  /** Model output is cut at the first of these (default DEFAULT_STOP_STRINGS). */
  stopStrings?: readonly string[];
  /** The worker module (default ./grade_worker.ts); tests point it at one that fails. */
  workerModule?: URL;
}

type Outcome = { correct: boolean; timeout: boolean; error?: string };

/** Thrown out of the quick pass when the symbolic stage is needed. */
const NEEDS_SYMBOLIC = new Error("needs the symbolic stage");
/** Longer pairs skip the quick pass (its regexes are cheap only on short strings). */
const QUICK_PASS_MAX_CHARS = 2000;

/** The string and number stages of math_equal; undefined when the symbolic stage is needed. */
function quickMathEqual(pred: string, gold: string): boolean | undefined {
  if (pred.length + gold.length > QUICK_PASS_MAX_CHARS) return undefined;
  // str_to_pmatrix's /\{.*,.*\}/ can backtrack for long on hostile text: leave it to a worker
  if (pred.includes("pmatrix") && !gold.includes("pmatrix")) return undefined;
  try {
    return mathEqual(pred, gold, {
      symbolic: () => {
        throw NEEDS_SYMBOLIC;
      },
    });
  } catch (err) {
    if (err === NEEDS_SYMBOLIC) return undefined;
    throw err;
  }
}

interface Task {
  pred: string;
  gold: string;
  resolve: (outcome: Outcome) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  running?: { id: number; task: Task; timer: ReturnType<typeof setTimeout> };
}

/** Workers that each run one comparison at a time under a deadline. */
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

  run(pred: string, gold: string): Promise<Outcome> {
    if (this.#closed) return Promise.reject(new Error("The grader is closed; create a new one"));
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#queue.push({ pred, gold, resolve, reject });
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
    worker.onmessage = (event: MessageEvent<CompareResponse | { ready: true }>) => {
      if ("ready" in event.data) {
        slot.ready = true;
        this.#pump();
      } else this.#finish(slot, event.data);
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
      slot.worker.postMessage({ id, pred: task.pred, gold: task.gold });
    }
  }

  #finish(slot: Slot, response: CompareResponse): void {
    const running = slot.running;
    if (!running || running.id !== response.id) return;
    clearTimeout(running.timer);
    slot.running = undefined;
    const { correct, timeout, error } = response;
    running.task.resolve(error === undefined ? { correct, timeout } : { correct, timeout, error });
    this.#pump();
  }

  #expire(slot: Slot): void {
    const running = slot.running;
    if (!running) return;
    this.#replace(slot);
    running.task.resolve({ correct: false, timeout: true });
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
    running?.task.resolve({ correct: false, timeout: false, error: err.message });
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
  #cache = new Map<string, boolean>();
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
    const goldNorm = normalizeGold(gold, dataset);
    const pred = predictionFromOutput(output, goldNorm, { dataset, stopStrings: this.stopStrings });
    return this.#verdict(pred, goldNorm);
  }

  /** Grade an answer that was already extracted from the output. */
  gradePred(pred: string, gold: string, dataset = ""): Promise<Verdict> {
    const goldNorm = normalizeGold(gold, dataset);
    return this.#verdict(predictionFromAnswer(pred, goldNorm, dataset), goldNorm);
  }

  /** Compare a normalised prediction (null: no answer) with a normalised gold. */
  async compare(pred: string | null, gold: string): Promise<Outcome> {
    if (pred === null) return { correct: false, timeout: false };
    const key = `${pred}\u0000${gold}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return { correct: cached, timeout: false };
    let outcome: Outcome;
    let quick: boolean | undefined;
    try {
      quick = quickMathEqual(pred, gold);
    } catch (err) {
      return { correct: false, timeout: false, error: `Grading failed: ${String(err)}` };
    }
    if (quick !== undefined) outcome = { correct: quick, timeout: false };
    else {
      if (this.#closed) throw new Error("The grader is closed; create a new one");
      this.#pool ??= new WorkerPool(this.workers, this.timeoutMs, this.#workerModule);
      outcome = await this.#pool.run(pred, gold);
    }
    if (!outcome.timeout && outcome.error === undefined) this.#cache.set(key, outcome.correct);
    return outcome;
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

  async #verdict(pred: string | null, gold: string): Promise<Verdict> {
    const outcome = await this.compare(pred, gold);
    return { extracted: pred ?? "", gold, ...outcome };
  }
}
