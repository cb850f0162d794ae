/**
 * `rast run --data-parallel-size N`: N worker processes (shard_queue.ts), each `rast run` with
 * its own devices (replica r sees CUDA devices r·tp .. r·tp+tp−1 through CUDA_VISIBLE_DEVICES;
 * on CPU they are just processes), taking shards of the run from the folder's shard locks. The
 * parent loads nothing: it shows one progress line over all of them (total tokens/s, the
 * samples saved as the files say, each replica's shard and rate), ends every child within a
 * second on SIGINT / SIGTERM, exits ≠ 0 when a child fails, and prints the metrics at the end.
 */
import { fileURLToPath } from "node:url";
import { UserError } from "../../engine/errors.ts";
import type { RunCommandConfig } from "./run_options.ts";
import type { Replica } from "./data_parallel_progress.ts";

/** The command line of a worker: the parent's, without --data-parallel-size, plus the worker flags. */
export function workerArgs(args: readonly string[], workers: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--data-parallel-size") i++;
    else if (!args[i].startsWith("--data-parallel-size=")) out.push(args[i]);
  }
  return [...out, "--data-parallel-worker", String(workers), "--batch", "--json"];
}

/** CUDA_VISIBLE_DEVICES of replica `rank`: its tp devices of those the parent may use. */
export function replicaDevices(
  rank: number,
  opts: { tensorParallelSize: number; workers: number; visible?: string },
): string {
  const tp = opts.tensorParallelSize;
  const visible = opts.visible?.split(",").map((d) => d.trim()).filter((d) => d !== "");
  if (visible && visible.length < opts.workers * tp) {
    throw new UserError(
      `CUDA_VISIBLE_DEVICES lists ${visible.length} devices, but --data-parallel-size ${opts.workers} × --tensor-parallel-size ${tp} needs ${
        opts.workers * tp
      }; list more devices or lower either size`,
    );
  }
  const ids = Array.from({ length: tp }, (_, i) => rank * tp + i);
  return ids.map((i) => visible ? visible[i] : String(i)).join(",");
}

/** Runs the workers to the end; see the module comment. */
export async function runDataParallel(config: RunCommandConfig): Promise<void> {
  const workers = config.dataParallelSize;
  const device = config.device;
  if (device !== undefined && !["cpu", "cuda", "cuda:0"].includes(device)) {
    throw new UserError(
      `--device ${device} with --data-parallel-size: each replica gets its own devices through CUDA_VISIBLE_DEVICES; pass --device cuda or cpu, or none`,
    );
  }
  const args = workerArgs(Deno.args, workers);
  const main = fileURLToPath(Deno.mainModule);
  const visible = Deno.env.get("CUDA_VISIBLE_DEVICES");
  const replicas: Replica[] = Array.from({ length: workers }, (_, rank) => {
    const env: Record<string, string> = device === "cpu" ? {} : {
      CUDA_VISIBLE_DEVICES: replicaDevices(rank, {
        tensorParallelSize: config.tensorParallelSize,
        workers,
        visible,
      }),
    };
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", main, ...args],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return { rank, child, tokensPerSecond: 0, saved: 0 };
  });
  const { ProgressLine } = await import("./data_parallel_progress.ts");
  const progress = new ProgressLine(replicas);
  let stoppedBy: "SIGINT" | "SIGTERM" | undefined;
  const stop = (signal: "SIGINT" | "SIGTERM") => () => {
    stoppedBy ??= signal;
    for (const r of replicas) if (!r.exit) kill(r.child, "SIGTERM");
    // Whatever has not ended after a second is killed: its journal is fsynced line by line.
    setTimeout(() => {
      for (const r of replicas) if (!r.exit) kill(r.child, "SIGKILL");
    }, 1000);
  };
  const onSigint = stop("SIGINT");
  const onSigterm = stop("SIGTERM");
  Deno.addSignalListener("SIGINT", onSigint);
  Deno.addSignalListener("SIGTERM", onSigterm);
  try {
    await Promise.all(replicas.map(async (r) => {
      await Promise.all([
        readLines(r.child.stdout, (line) => progress.stdoutLine(r, line)),
        readLines(r.child.stderr, (line) => progress.stderrLine(r, line)),
      ]);
      r.exit = await r.child.status;
    }));
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
    Deno.removeSignalListener("SIGTERM", onSigterm);
    progress.close();
  }
  await progress.report(config, stoppedBy);
}

function kill(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // It has just exited.
  }
}

/** Calls `onLine` for each line of `stream` (the last one even without its newline). */
async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    const lines = (rest + decoder.decode(bytes, { stream: true })).split("\n");
    rest = lines.pop()!;
    for (const line of lines) onLine(line);
  }
  if (rest !== "") onLine(rest);
}
