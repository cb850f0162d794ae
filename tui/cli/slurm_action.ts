/**
 * `rast slurm`'s implementation: check the run options as `run` does and plan the run (read
 * only), check the Slurm options, write the sbatch script atomically, and submit it if asked.
 */
import { delimiter, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { UserError } from "../../engine/errors.ts";
import { writeTextAtomic } from "../runs/atomic.ts";
import { planRun } from "../runs/plan.ts";
import { addRunOptions } from "./run.ts";
import { parseRunOptions, type RawRunOptions } from "./run_options.ts";
import { parseSlurmOptions, type RawSlurmOptions, sbatchScript } from "./slurm_script.ts";

/** The launcher every task runs (tasks may start on another node of the shared file system). */
const RAST = fileURLToPath(new URL("../../rast", import.meta.url));

/** Runs `rast slurm` with commander's options; throws UserError for bad input. */
export async function slurmCommand(
  raw: RawRunOptions & RawSlurmOptions,
  command: Command,
): Promise<void> {
  const runArgs = runArguments(command);
  if (raw.shard !== undefined) {
    throw new UserError(
      "--shard is set for each array task by the script; drop it and pass --array-size N",
    );
  }
  const config = parseRunOptions(raw, {
    alphaGiven: command.getOptionValueSource("alpha") === "cli",
    command: ["run", ...runArgs],
  });
  const job = parseSlurmOptions(raw, {
    gpusPerTask: config.device === "cpu" ? 0 : config.tensorParallelSize,
    jobName: `rast-${config.dataset.replace(/.*\//, "").replace(/\.jsonl$/, "")}`,
  });
  if (config.dataParallelSize > 1) {
    throw new UserError(
      "--data-parallel-size runs shards in worker processes of one job; drop it here, where " +
        "each array task is one shard (more tasks: a larger --array-size)",
    );
  }
  if (raw.submit) sbatchOnPath();
  // Planned as task 0's shard, so a run folder made with another shard count is refused now.
  const plan = await planRun({ ...config, shard: { index: 0, count: job.shards } });
  const rows = plan.sharded!.window.rows.length;
  if (job.shards > rows) {
    throw new UserError(
      `--array-size ${job.shards} is more than the run's ${rows} rows; pass ${rows} or less`,
    );
  }

  const outputDir = resolve(config.outputDir);
  const stem = "rast-" + relative(outputDir, resolve(plan.paths.dir)).split(sep).join("-");
  const slurmDir = join(outputDir, "slurm");
  const script = join(slurmDir, `${stem}.sbatch`);
  const text = sbatchScript(job, {
    rast: RAST,
    runArgs,
    workDir: Deno.cwd(),
    logStem: join(slurmDir, stem),
  });
  await Deno.mkdir(slurmDir, { recursive: true });
  await writeTextAtomic(script, text);
  if (!raw.submit) {
    console.log(script);
    console.error(`rast: submit it with: sbatch ${script}`);
    return;
  }
  console.error(`rast: wrote ${script}`);
  console.log(await submit(script));
}

/**
 * The `run` options given on the command line, as `--flag=value` words (a value that starts
 * with "-" stays a value). Defaults are left out: `run` applies the same ones.
 */
export function runArguments(command: Command): string[] {
  const values = command.opts();
  // The options `run` declares, read off a command that has only those.
  const runFlags = new Set(addRunOptions(new Command()).options.map((o) => o.long));
  const args: string[] = [];
  for (const option of command.options) {
    const key = option.attributeName();
    if (!runFlags.has(option.long) || command.getOptionValueSource(key) !== "cli") continue;
    const value = values[key];
    if (option.negate) {
      if (value === false) args.push(option.long!);
    } else if (option.isBoolean()) {
      if (value === true) args.push(option.long!);
    } else {
      for (const v of Array.isArray(value) ? value : [value]) args.push(`${option.long}=${v}`);
    }
  }
  return args;
}

/** Refuses --submit before anything is written when there is no sbatch to submit with. */
function sbatchOnPath(): void {
  const dirs = (Deno.env.get("PATH") ?? "").split(delimiter).filter((d) => d !== "");
  for (const dir of dirs) {
    try {
      if (Deno.statSync(join(dir, "sbatch")).isFile) return;
    } catch {
      // Not in this folder.
    }
  }
  throw new UserError(
    "--submit needs sbatch, which is not on PATH; run on a Slurm login node (or install " +
      "slurm-client), or drop --submit and submit the script yourself",
  );
}

/** `sbatch --parsable SCRIPT`; returns the job id. */
async function submit(script: string): Promise<string> {
  const result = await new Deno.Command("sbatch", {
    args: ["--parsable", script],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(result.stdout).trim();
  const err = new TextDecoder().decode(result.stderr).trim().split("\n").at(-1) ?? "";
  if (!result.success) {
    throw new Error(`sbatch refused ${script} (exit ${result.code}): ${err || out}`);
  }
  // --parsable prints "<job id>" or "<job id>;<cluster>".
  const jobId = out.split("\n").at(-1)!.split(";")[0];
  if (!/^\d+$/.test(jobId)) throw new Error(`sbatch printed no job id for ${script}: "${out}"`);
  return jobId;
}
