/**
 * Headless reporting for --batch (or when stdout is not a terminal): a progress line on stderr,
 * rewritten in place on a terminal and printed every few seconds otherwise; JSONL events on
 * stdout with --json; and the final metrics table. The numbers come from the TUI's reducer.
 */
import type { EngineEvent } from "../../engine/events.ts";
import { type SampleVerdict, summarizeAccuracy } from "../app/accuracy.ts";
import { duration, percent, rate } from "../app/format.ts";
import type { Grader } from "../app/pump.ts";
import { initialState, reduce, throughput, type TuiAction, type TuiState } from "../app/state.ts";

/** Where text goes (stderr, stdout, or a test's buffer). */
export interface TextSink {
  write(text: string): void;
}

/** Options of BatchReporter. */
export interface BatchReporterOptions {
  totalSamples: number;
  /** Samples already done before this run (resume). */
  doneBefore?: number;
  /** Progress and errors (default: the process's stderr). */
  stderr?: TextSink;
  /** JSONL (default: the process's stdout). */
  stdout?: TextSink;
  /** Rewrite the progress line in place (default: whether stderr is a terminal). */
  tty?: boolean;
  /** Terminal width for the in-place line (default: stderr's, else 80). */
  columns?: number;
  /** Each engine event and verdict as one JSON line on stdout. */
  json?: boolean;
  /** Milliseconds between progress lines (default 200 on a terminal, 10000 otherwise). */
  intervalMs?: number;
  now?: () => number;
  ks?: readonly number[];
  /**
   * Verdicts arrive only for saved samples (a run journals before it grades): the line counts a
   * sample done at its verdict, never at its finished event, so it claims nothing unsaved.
   */
  countSaved?: boolean;
  /** Verdicts of samples saved before this process (a resume), counted in the accuracy. */
  earlier?: readonly SampleVerdict[];
}

const encoder = new TextEncoder();

/** A sink writing all of each text to a Deno file (writeSync may write only part). */
export function fileSink(file: { writeSync(p: Uint8Array): number }): TextSink {
  return {
    write(text) {
      let bytes = encoder.encode(text);
      while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
    },
  };
}

/** Feeds engine events and verdicts to the reducer and reports them; see the module comment. */
export class BatchReporter {
  #state: TuiState;
  readonly #opts: BatchReporterOptions;
  readonly #stderr: TextSink;
  readonly #stdout: TextSink;
  readonly #tty: boolean;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastLine = -Infinity;
  #lineShown = false;
  /** Actions not yet reduced: the state is brought up to date only when a line is due. */
  #pending: TuiAction[] = [];

  constructor(opts: BatchReporterOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#state = initialState({
      now: this.#now(),
      totalSamples: opts.totalSamples,
      doneBefore: opts.doneBefore,
      // Only counts matter here: keep no answer text.
      limits: { maxPieces: 1, heatSteps: 1, finishedTextLines: 0 },
    });
    this.#stderr = opts.stderr ?? fileSink(Deno.stderr);
    this.#stdout = opts.stdout ?? fileSink(Deno.stdout);
    this.#tty = opts.tty ?? Deno.stderr.isTerminal();
    this.#intervalMs = opts.intervalMs ?? (this.#tty ? 200 : 10_000);
    for (const verdict of opts.earlier ?? []) this.#pending.push({ type: "verdict", verdict });
  }

  /** The reducer's state so far. */
  get state(): TuiState {
    if (this.#pending.length > 0) {
      const actions = this.#pending;
      this.#pending = [];
      this.#state = reduce(this.#state, { type: "batch", now: this.#now(), actions });
    }
    return this.#state;
  }

  /** Takes one engine event. */
  event(event: EngineEvent): void {
    this.#pending.push({ type: "engine", event });
    if (this.#opts.json) this.#stdout.write(JSON.stringify(event) + "\n");
    if (event.kind === "error") {
      this.#clearLine();
      const where = event.request === undefined ? "" : ` (request ${event.request})`;
      this.#stderr.write(`rast: engine error${where}: ${event.message}\n`);
    }
    this.#maybeLine();
  }

  /** Takes the grade of a finished sample. */
  verdict(verdict: SampleVerdict): void {
    this.#pending.push({ type: "verdict", verdict });
    if (this.#opts.json) this.#stdout.write(JSON.stringify({ kind: "verdict", ...verdict }) + "\n");
    this.#maybeLine();
  }

  /** The progress line: "12/64 samples (18.8%) · 1234 tok/s · ETA 3m05s · acc 58.3% (7/12)". */
  progressLine(): string {
    const state = this.state;
    const t = throughput(state);
    const accuracy = summarizeAccuracy(state.verdicts, []);
    const done = this.#opts.countSaved ? accuracy.graded : t.done;
    const share = t.total > 0 ? ` (${percent(done / t.total)})` : "";
    const parts = [
      `${done}/${t.total} samples${share}`,
      `${rate(t.tokensPerSecond)} tok/s`,
      state.endedAt === undefined
        ? `ETA ${duration(t.etaSeconds)}`
        : `took ${duration(t.elapsedSeconds)}`,
    ];
    if (accuracy.graded > 0) {
      parts.push(`acc ${percent(accuracy.mean)} (${accuracy.correct}/${accuracy.graded})`);
    }
    if (state.memory && state.endedAt === undefined) {
      parts.push(
        `${state.active} active · KV ${state.memory.blocksUsed}/${state.memory.blocksTotal} blocks`,
      );
    }
    return parts.join(" · ");
  }

  /** Prints the last progress line (and ends the in-place line). */
  finish(): void {
    this.#state = reduce(this.state, { type: "ended", now: this.#now() });
    this.#writeLine();
    if (this.#tty) this.#stderr.write("\n");
    this.#lineShown = false;
  }

  #maybeLine(): void {
    if (this.#now() - this.#lastLine >= this.#intervalMs) this.#writeLine();
  }

  #writeLine(): void {
    this.#lastLine = this.#now();
    const line = this.progressLine();
    if (!this.#tty) return this.#stderr.write(`rast: ${line}\n`);
    const columns = this.#opts.columns ?? consoleColumns();
    const shown = `rast: ${line}`.slice(0, Math.max(10, columns - 1));
    this.#stderr.write(`\r\x1b[K${shown}`);
    this.#lineShown = true;
  }

  #clearLine(): void {
    if (this.#tty && this.#lineShown) this.#stderr.write("\r\x1b[K");
    this.#lineShown = false;
  }
}

function consoleColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}

/** Consumes the stream into a BatchReporter, grading each finished sample when `grade` is given. */
export async function reportBatch(
  events: AsyncIterable<EngineEvent>,
  opts: BatchReporterOptions & { grade?: Grader },
): Promise<BatchReporter> {
  const reporter = new BatchReporter(opts);
  try {
    for await (const event of events) {
      reporter.event(event);
      if (event.kind === "finished" && event.reason !== "cancelled" && opts.grade) {
        const grade = await opts.grade(event);
        if (grade) reporter.verdict({ request: event.request, sample: event.sample, ...grade });
      }
    }
  } finally {
    reporter.finish();
  }
  return reporter;
}

/** The metrics of a run as metrics.json holds them; accuracies are fractions in [0, 1]. */
export interface RunMetricsTable {
  meanAccuracy?: number;
  run0Accuracy?: number;
  passAtK?: Record<string, number>;
  majAtK?: Record<string, number>;
  [other: string]: unknown;
}

/** A two-column table: mean and run-0 accuracy, pass@k and maj@k by k (as percentages), then
 * every other number as it is, nested ones named by their path ("byLevel.3.mean"). */
export function formatMetricsTable(
  metrics: RunMetricsTable | Readonly<Record<string, unknown>>,
): string {
  const rows: [string, string][] = [];
  const fraction = (name: string, value: unknown) => {
    if (typeof value === "number") rows.push([name, percent(value, 2)]);
  };
  const byK = (name: string, table: unknown) => {
    if (table === null || typeof table !== "object") return;
    const entries = Object.entries(table).sort(([a], [b]) => Number(a) - Number(b));
    for (const [k, value] of entries) fraction(`${name}@${k}`, value);
  };
  fraction("mean accuracy", metrics.meanAccuracy);
  fraction("run-0 accuracy", metrics.run0Accuracy);
  byK("pass", metrics.passAtK);
  byK("maj", metrics.majAtK);
  const known = new Set(["meanAccuracy", "run0Accuracy", "passAtK", "majAtK"]);
  const others = (prefix: string, value: unknown, depth: number) => {
    if (typeof value === "number") rows.push([prefix, plainNumber(value)]);
    else if (depth < 4 && value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) {
        others(`${prefix}.${key}`, inner, depth + 1);
      }
    }
  };
  for (const [key, value] of Object.entries(metrics)) if (!known.has(key)) others(key, value, 1);
  const width = Math.max("metric".length, ...rows.map(([name]) => name.length));
  const valueWidth = Math.max("value".length, ...rows.map(([, value]) => value.length));
  const line = (name: string, value: string) =>
    `${name.padEnd(width)}  ${value.padStart(valueWidth)}`;
  const header = [line("metric", "value"), "-".repeat(width + 2 + valueWidth)];
  return [...header, ...rows.map(([n, v]) => line(n, v))].join("\n") + "\n";
}

function plainNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}
