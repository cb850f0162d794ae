/**
 * The parent's view of a --data-parallel-size run: one progress line on stderr over every
 * replica (samples saved as the run folder's journals say, total tokens/s, each replica's shard,
 * rate and samples saved), the workers' messages prefixed with their rank, and the final report.
 */
import { type Metrics } from "../../datasets/grading/mod.ts";
import { runStatus } from "../runs/status.ts";
import type { RunCommandConfig } from "./run_options.ts";

/** What the parent knows of one replica, from its JSONL. */
export interface Replica {
  rank: number;
  child: Deno.ChildProcess;
  shard?: string;
  tokensPerSecond: number;
  saved: number;
  exit?: Deno.CommandStatus;
}

const encoder = new TextEncoder();

/** The aggregate line and what the workers say; see the module comment. */
export class ProgressLine {
  readonly #replicas: Replica[];
  readonly #tty = Deno.stderr.isTerminal();
  readonly #timer: ReturnType<typeof setInterval>;
  #dir?: string;
  #metrics?: Metrics;
  #lineShown = false;

  constructor(replicas: Replica[]) {
    this.#replicas = replicas;
    this.#timer = setInterval(() => this.#draw(), this.#tty ? 500 : 10_000);
  }

  /** A JSONL line of replica `r`'s stdout. */
  stdoutLine(r: Replica, line: string): void {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    if (event.kind === "queue") {
      this.#dir ??= String(event.dir);
    } else if (event.kind === "shard") {
      r.shard = `${event.index}/${event.count}`;
      this.#dir ??= String(event.dir);
    } else if (event.kind === "progress") {
      r.tokensPerSecond = Number(event.tokensPerSecond) || 0;
    } else if (event.kind === "verdict") {
      r.saved++;
    } else if (event.kind === "metrics") {
      this.#metrics = event.metrics as Metrics;
      this.#dir ??= String(event.dir);
    }
  }

  /** A line of replica `r`'s stderr: shown with its rank, except its own progress lines. */
  stderrLine(r: Replica, line: string): void {
    if (/^rast: \d+\/\d+ samples/.test(line) || line.trim() === "") return;
    // Each replica prints the stop ids; the first says it for all.
    if (r.rank > 0 && line.startsWith("rast: stopping on token ids")) return;
    this.#write(`[replica ${r.rank}] ${line}\n`);
  }

  /** The aggregate line's text. */
  text(): string {
    const rate = this.#replicas.reduce((n, r) => n + (r.exit ? 0 : r.tokensPerSecond), 0);
    let samples = "";
    if (this.#dir) {
      try {
        const parts = runStatus(this.#dir).parts;
        const done = parts.reduce((n, p) => n + p.done, 0);
        const total = parts.reduce((n, p) => n + p.total, 0);
        samples = ` · ${done}/${total} samples`;
      } catch {
        // run.json is not written yet.
      }
    }
    const each = this.#replicas.map((r) => {
      const state = r.exit ? `exited ${r.exit.code}` : r.shard ? `shard ${r.shard}` : "loading";
      return `r${r.rank} ${state} ${Math.round(r.tokensPerSecond)} tok/s ${r.saved} saved`;
    });
    return `rast: ${this.#replicas.length} replicas${samples} · ${Math.round(rate)} tok/s · ${
      each.join(" · ")
    }`;
  }

  #draw(): void {
    if (this.#tty) {
      const columns = Deno.consoleSize().columns;
      Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${this.text().slice(0, columns - 1)}`));
      this.#lineShown = true;
    } else this.#write(this.text() + "\n");
  }

  #write(text: string): void {
    if (this.#lineShown) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
    this.#lineShown = false;
    let bytes = encoder.encode(text);
    while (bytes.length > 0) bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
  }

  /** Stops redrawing and leaves the last line in place. */
  close(): void {
    clearInterval(this.#timer);
    this.#write(this.text() + "\n");
  }

  /**
   * The final report: the metrics table (as `rast run` prints it) once the run is assembled;
   * exit 130 / 143 after SIGINT / SIGTERM, 1 when a replica failed or shards are left undone.
   */
  async report(config: RunCommandConfig, stoppedBy?: "SIGINT" | "SIGTERM"): Promise<void> {
    const failed = this.#replicas.filter((r) => r.exit && r.exit.code !== 0);
    if (stoppedBy) {
      Deno.exitCode = stoppedBy === "SIGINT" ? 130 : 143;
      console.error("rast: stopped; rerun the same command to do the rest");
      return;
    }
    for (const r of failed) {
      console.error(`rast: replica ${r.rank} exited with code ${r.exit!.code} (see above)`);
    }
    if (failed.length > 0) Deno.exitCode = 1;
    const status = this.#dir ? runStatus(this.#dir) : undefined;
    let metrics = this.#metrics;
    if (!metrics && status?.assembled) {
      metrics = JSON.parse(await Deno.readTextFile(`${status.dir}/metrics.json`)) as Metrics;
    }
    if (!metrics || !status) {
      if (failed.length === 0) {
        console.error(
          "rast: the replicas stopped before every shard was done; rerun the same command",
        );
        Deno.exitCode = 1;
      }
      return;
    }
    const { formatMetrics } = await import("../runs/evaluate.ts");
    const text = `${formatMetrics(metrics, { majRule: config.majRule })}\nresults in ${status.dir}`;
    if (config.json) {
      console.error(text);
      console.log(JSON.stringify({ kind: "metrics", dir: status.dir, metrics }));
    } else console.log(text);
  }
}
