/**
 * Pulls engine events and hands them on in batches at a capped rate, so the screen redraws at
 * most ~15 times a second however fast tokens arrive. Pausing stops the pulling itself: an
 * engine whose generate() is an async generator then sits at its `yield`, back-pressured.
 */
import type { EngineEvent } from "../../engine/events.ts";
import type { SampleVerdict } from "./accuracy.ts";
import type { TuiAction } from "./state.ts";

/** A finished-sample event, as given to the grader. */
export type FinishedEvent = Extract<EngineEvent, { kind: "finished" }>;

/** Grades a finished sample; undefined when it cannot be graded (no reference answer). */
export type Grader = (
  event: FinishedEvent,
) =>
  | Omit<SampleVerdict, "request" | "sample">
  | undefined
  | Promise<Omit<SampleVerdict, "request" | "sample"> | undefined>;

/** How the pump delivers and times its batches. */
export interface PumpOptions {
  /** Receives each batch (engine events and verdicts, in arrival order) with the time. */
  flush(actions: TuiAction[], now: number): void;
  /** Called on every finished sample (not cancelled ones); its verdict joins the same batch. */
  grade?: Grader;
  /** Batches per second at most (default 15). */
  maxFlushesPerSecond?: number;
  /** Clock in ms (default Date.now). */
  now?: () => number;
}

/** Why run() returned: the stream ended, or stop() was called. */
export type PumpEnd = "done" | "stopped";

/** Moves events from one engine stream into batched actions; see the module comment. */
export class EventPump {
  readonly #iterator: AsyncIterator<EngineEvent>;
  readonly #opts: PumpOptions;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #pending: TuiAction[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #lastFlush = -Infinity;
  #lastYield = performance.now();
  #paused = false;
  #wake?: () => void;
  #stopped = false;

  constructor(source: AsyncIterable<EngineEvent>, opts: PumpOptions) {
    this.#iterator = source[Symbol.asyncIterator]();
    this.#opts = opts;
    this.#intervalMs = 1000 / (opts.maxFlushesPerSecond ?? 15);
    this.#now = opts.now ?? Date.now;
  }

  /** Whether pulling is paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Stops pulling after the event in flight (if any); what was pulled is flushed at once. */
  pause(): void {
    this.#paused = true;
    this.#flushNow();
  }

  /** Starts pulling again. */
  resume(): void {
    this.#paused = false;
    this.#wakeUp();
  }

  /** Adds an action (a verdict from outside, say) to the next batch. */
  enqueue(action: TuiAction): void {
    this.#pending.push(action);
    this.#schedule();
  }

  /** Pulls until the stream ends or stop() is called; rejects with the stream's error. */
  async run(): Promise<PumpEnd> {
    try {
      while (!this.#stopped) {
        if (this.#paused) {
          await new Promise<void>((resolve) => this.#wake = resolve);
          continue;
        }
        const result = await this.#iterator.next();
        if (result.done) return "done";
        if (this.#stopped) break;
        const event = result.value;
        this.enqueue({ type: "engine", event });
        if (event.kind === "finished" && event.reason !== "cancelled" && this.#opts.grade) {
          const grade = await this.#opts.grade(event);
          if (grade) {
            this.enqueue({
              type: "verdict",
              verdict: { request: event.request, sample: event.sample, ...grade },
            });
          }
        }
        await this.#letTimersRun();
      }
      return "stopped";
    } finally {
      this.#flushNow();
    }
  }

  /** Stops pulling and closes the stream (its `finally` blocks run). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeUp();
    await this.#iterator.return?.();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastFlush + this.#intervalMs - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flushNow();
    }, wait);
  }

  #flushNow(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const actions = this.#pending;
    this.#pending = [];
    this.#lastFlush = this.#now();
    this.#opts.flush(actions, this.#lastFlush);
  }

  /** A stream that resolves in microtasks only would starve timers (redraws, keys); give them
   * a turn every few milliseconds. */
  async #letTimersRun(): Promise<void> {
    if (performance.now() - this.#lastYield < 8) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.#lastYield = performance.now();
  }
}
