/**
 * One run's generation loop, shared by the TUI and the headless batch mode: it asks the engine
 * only for samples not yet journalled, passes every engine event through unchanged, grades each
 * finished sample, journals it (append + fsync), and rewrites a prediction file (atomically)
 * as soon as every row of that sample index is done. metrics.json is written when all are.
 * Samples in flight are checkpointed (inflight.ts) and a resumed run continues them mid-sample.
 */
import type { EngineEvent, GenerateRequest, RastEngine } from "../../engine/events.ts";
import type { Metrics } from "../../datasets/grading/mod.ts";
import { Journal, sampleKey, type SampleRecord, type Verdict } from "./journal.ts";
import { Checkpointer, type InflightLog } from "./inflight.ts";
import type { RunLock } from "./lock.ts";
import type { RunPlan } from "./plan.ts";
import { sampleComplete, windowOutputs, writeMetrics, writePrediction } from "./outputs.ts";
import { assembleShards } from "./assemble.ts";
import { rowSeed } from "./seeds.ts";

/** What grades a finished sample (eval's Grader has this shape). */
export interface SampleGrader {
  grade(output: string, gold: string, dataset: string): Promise<Verdict>;
}

/** How a run ended. */
export interface RunSummary {
  dir: string;
  total: number;
  /** Samples journalled, this session and before. */
  done: number;
  /** Samples journalled before this session started. */
  doneBefore: number;
  correct: number;
  /** Every sample is journalled; metrics.json is written. */
  complete: boolean;
  metrics?: Metrics;
  /** Engine or grader failures; their samples stay unfinished and a rerun redoes them. */
  errors: string[];
  /** Samples the engine failed this session (journalled as failures, redone by a rerun). */
  failed: number;
  /** A write failed (a full disk): the run stopped there; everything before it is kept. */
  writeFailed: boolean;
  /**
   * A shard's run: its counts above are the shard's; `complete` says the shard is, `metrics`
   * is set when this shard was the last and assembled the run.
   */
  shards?: { index: number; count: number; done: number };
}

/** Per-call options of RunSession.events. */
export interface RunEventsOptions {
  signal?: AbortSignal;
  /** Prompt text → base token ids (default engine.encode). */
  encode?: (text: string) => number[];
  /** Per-token statistics in the token events (GenerateOptions.stats; default true). */
  stats?: boolean;
}

/** A run open for writing; see the module comment. */
export class RunSession {
  readonly plan: RunPlan;
  readonly doneBefore: number;
  readonly #grader: SampleGrader;
  readonly #journal: Journal;
  readonly #rowsByIndex: Map<number, RunPlan["dataset"]["rows"][number]>;
  readonly #verdicts = new Map<string, Promise<Verdict | undefined>>();
  readonly #listeners: ((record: SampleRecord) => void)[] = [];
  readonly #written = new Set<number>();
  readonly #errors: string[] = [];
  #grading = new Set<Promise<void>>();
  /** Aborts the engine when a write fails: nothing more is generated that cannot be saved. */
  readonly #stop = new AbortController();
  #failed = 0;

  readonly #lock: RunLock;
  readonly #inflight: InflightLog;
  readonly #checkpoints: Checkpointer;

  constructor(
    plan: RunPlan,
    grader: SampleGrader,
    journal: Journal,
    lock: RunLock,
    inflight: InflightLog,
  ) {
    this.plan = plan;
    this.#grader = grader;
    this.#journal = journal;
    this.#lock = lock;
    this.#inflight = inflight;
    this.#checkpoints = new Checkpointer(inflight);
    this.#rowsByIndex = new Map(plan.dataset.rows.map((r) => [r.index, r]));
    this.doneBefore = this.done;
  }

  /** Samples in the run. */
  get total(): number {
    return this.plan.total;
  }

  /** Samples of this run's first --num-runs journalled so far. */
  get done(): number {
    let n = 0;
    for (const r of this.#journal.records.values()) if (r.sample < this.plan.config.numRuns) n++;
    return n;
  }

  /** Correct samples among those counted by `done`. */
  get correct(): number {
    let n = 0;
    for (const r of this.#journal.records.values()) {
      if (r.sample < this.plan.config.numRuns && r.verdict.correct) n++;
    }
    return n;
  }

  /** Journalled records (row, sample → record). */
  get records(): ReadonlyMap<string, SampleRecord> {
    return this.#journal.records;
  }

  /** Calls `listener` after each sample is journalled. */
  onSample(listener: (record: SampleRecord) => void): void {
    this.#listeners.push(listener);
  }

  /** Requests for the samples not yet journalled: one per row, only its missing sample indices. */
  pendingRequests(encode: (text: string) => number[]): GenerateRequest[] {
    const { dataset, prompts, config } = this.plan;
    const requests: GenerateRequest[] = [];
    dataset.rows.forEach((row, i) => {
      const missing: number[] = [];
      for (let s = 0; s < config.numRuns; s++) {
        if (!this.#journal.records.has(sampleKey(row.index, s))) missing.push(s);
      }
      if (missing.length === 0) return;
      const resume = new Map<number, number[]>();
      for (const s of missing) {
        const restored = this.#inflight.restored.get(sampleKey(row.index, s));
        if (restored) resume.set(s, restored.tokens);
      }
      requests.push({
        request: row.index,
        promptIds: encode(prompts[i]),
        samples: config.numRuns,
        sampleIndices: missing.length === config.numRuns ? undefined : missing,
        seed: rowSeed(config.seed, row.index),
        resume: resume.size > 0 ? resume : undefined,
      });
    });
    return requests;
  }

  /**
   * Runs the pending samples on `engine`, yielding every engine event unchanged. Grading starts
   * before a `finished` event is yielded, so verdict() can be asked for it at once.
   */
  async *events(engine: RastEngine, opts: RunEventsOptions = {}): AsyncGenerator<EngineEvent> {
    const encode = opts.encode ?? ((text: string) => engine.encode(text));
    const requests = this.pendingRequests(encode);
    if (requests.length === 0) return;
    const { settings } = this.plan.record;
    const stream = engine.generate(requests, {
      temperature: settings.temperature,
      topP: settings.topP,
      maxTokens: settings.maxTokens,
      stopIds: settings.stopIds,
      stopStrings: settings.stopStrings,
      stats: opts.stats,
      signal: opts.signal ? AbortSignal.any([opts.signal, this.#stop.signal]) : this.#stop.signal,
    });
    for await (const event of stream) {
      this.#checkpoint(event);
      if (event.kind === "finished" && event.reason !== "cancelled") this.#grade(event);
      if (event.kind === "error") this.#engineError(event);
      yield event;
    }
    // Samples cut short by a stop keep every token they reached.
    this.#saveCheckpoints(true);
    await this.settle();
  }

  /** The verdict of a finished sample once it is graded and journalled (undefined if it failed). */
  verdict(request: number, sample: number): Promise<Verdict | undefined> {
    const key = sampleKey(request, sample);
    const journalled = this.#journal.records.get(key);
    if (journalled) return Promise.resolve(journalled.verdict);
    return this.#verdicts.get(key) ?? Promise.resolve(undefined);
  }

  /** Waits for every grade in flight to be journalled. */
  async settle(): Promise<void> {
    while (this.#grading.size > 0) await Promise.all([...this.#grading]);
  }

  /**
   * Settles, writes any prediction file now complete and, when every sample is done, metrics.json;
   * closes the journal.
   */
  async finish(k?: number): Promise<RunSummary> {
    await this.settle();
    await this.writeCompletePredictions();
    const complete = this.done === this.total;
    let metrics: Metrics | undefined;
    let shards: RunSummary["shards"];
    const { sharded } = this.plan;
    if (sharded) {
      const assembly = complete
        ? await assembleShards(windowOutputs(this.plan), sharded.shard.count, { k })
        : undefined;
      metrics = assembly?.metrics;
      shards = { ...sharded.shard, done: assembly?.shardsDone ?? 0 };
    } else if (complete) {
      metrics = await writeMetrics(windowOutputs(this.plan), this.#journal.records, {
        k,
        write: !this.plan.reportOnly,
      });
    }
    this.close();
    return {
      shards,
      dir: this.plan.paths.dir,
      total: this.total,
      done: this.done,
      doneBefore: this.doneBefore,
      correct: this.correct,
      complete,
      metrics,
      errors: [...this.#errors],
      failed: this.#failed,
      writeFailed: this.#stop.signal.aborted,
    };
  }

  /** Stops using the run without settling or writing anything more (grades in flight are lost). */
  close(): void {
    this.#journal.close();
    this.#inflight.close();
    this.#lock.release();
  }

  /**
   * Writes each prediction file whose sample index is done for every row and not on disk yet
   * (a shard writes none: the last shard to finish assembles them).
   */
  async writeCompletePredictions(): Promise<void> {
    if (this.plan.sharded) return;
    for (let s = 0; s < this.plan.config.numRuns; s++) await this.#writePredictionIfComplete(s);
  }

  /** Follows a sample's tokens for its checkpoint; writes the checkpoints when they are due. */
  #checkpoint(event: EngineEvent): void {
    const c = this.#checkpoints;
    if (event.kind === "started") c.started(event.request, event.sample);
    else if (event.kind === "token") c.token(event.request, event.sample, event.id);
    else if (event.kind === "finished" && event.reason !== "cancelled") {
      c.ended(event.request, event.sample);
    } else if (event.kind === "error" && event.sample !== undefined) {
      c.ended(event.request!, event.sample);
    }
    this.#saveCheckpoints(false);
  }

  #saveCheckpoints(force: boolean): void {
    if (this.#stop.signal.aborted && !force) return;
    try {
      this.#checkpoints.flush(force);
    } catch (err) {
      this.#writeFailed(err);
    }
  }

  /** An engine error; one naming a sample fails that sample only (journalled, redone later). */
  #engineError(event: Extract<EngineEvent, { kind: "error" }>): void {
    if (event.request === undefined || event.sample === undefined) {
      this.#errors.push(event.message);
      return;
    }
    this.#failed++;
    this.#errors.push(`Row ${event.request} sample ${event.sample} failed: ${event.message}`);
    try {
      this.#journal.appendFailure({
        row: event.request,
        sample: event.sample,
        failed: event.message,
      });
    } catch (err) {
      this.#writeFailed(err);
    }
  }

  /** The first failed write stops the run; later ones add nothing new. */
  #writeFailed(err: unknown): void {
    if (this.#stop.signal.aborted) return;
    const why = err instanceof Error ? err.message : String(err);
    this.#errors.push(
      `Writing to ${this.plan.paths.dir} failed: ${why}; stopped here (every sample saved before is kept): free space or fix the folder, then rerun`,
    );
    this.#stop.abort();
  }

  #grade(event: Extract<EngineEvent, { kind: "finished" }>): void {
    const row = this.#rowsByIndex.get(event.request);
    if (!row) {
      this.#errors.push(`Engine finished request ${event.request}, which is not a row of this run`);
      return;
    }
    const key = sampleKey(event.request, event.sample);
    const graded = this.#grader.grade(event.text, row.gold, this.plan.dataset.name)
      .catch((err) => {
        const why = err instanceof Error ? err.message : String(err);
        this.#errors.push(`Grading row ${event.request} sample ${event.sample} failed: ${why}`);
        return undefined;
      });
    const verdict = graded
      .then(async (verdict) => {
        if (!verdict) return undefined;
        const record: SampleRecord = {
          row: event.request,
          sample: event.sample,
          output: event.text,
          reason: event.reason === "length" ? "length" : "stop",
          tokens: event.tokens.length,
          verdict,
        };
        if (this.#journal.append(record)) {
          for (const listener of this.#listeners) listener(record);
          await this.#writePredictionIfComplete(event.sample);
        }
        return verdict;
      })
      .catch((err) => {
        this.#writeFailed(err);
        return undefined;
      });
    this.#verdicts.set(key, verdict);
    const done = verdict.then(() => {
      this.#grading.delete(done);
      this.#verdicts.delete(key);
    });
    this.#grading.add(done);
  }

  async #writePredictionIfComplete(sample: number): Promise<void> {
    if (this.#written.has(sample) || this.plan.sharded) return;
    const out = windowOutputs(this.plan);
    if (!sampleComplete(out, sample, this.#journal.records)) return;
    this.#written.add(sample);
    await writePrediction(out, sample, this.#journal.records);
  }
}
