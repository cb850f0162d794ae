/**
 * The sbatch script `rast slurm` writes: a job array with one task per shard, each task running
 * `rast run` with the options it was given. Also the checks of the Slurm-only options, so a bad
 * value is refused before the script is written rather than by sbatch after.
 */
import { UserError } from "../../engine/errors.ts";
import { integer, optionalInteger } from "./options.ts";

/** The Slurm-only options as commander hands them over. */
export interface RawSlurmOptions {
  arraySize?: string;
  partition?: string;
  gpusPerTask?: string;
  cpusPerTask?: string;
  mem?: string;
  time?: string;
  account?: string;
  qos?: string;
  jobName?: string;
  submit?: boolean;
}

/** The job's resources and names, checked. */
export interface SlurmJob {
  /** Array tasks, one shard each (--array=0-(shards-1)). */
  shards: number;
  jobName: string;
  partition?: string;
  /** 0: no GPU asked for (a CPU run). */
  gpusPerTask: number;
  cpusPerTask?: number;
  mem?: string;
  time?: string;
  account?: string;
  qos?: string;
}

/** Slurm's largest array index by default (MaxArraySize=1001); a site may allow more. */
const SLURM_DEFAULT_MAX_ARRAY_SIZE = 1001;

/**
 * Checks the Slurm options; `defaults` gives the GPUs per task when --gpus-per-task is not set
 * (the tensor-parallel size, or 0 for a CPU device) and the job name.
 */
export function parseSlurmOptions(
  raw: RawSlurmOptions,
  defaults: { gpusPerTask: number; jobName: string },
): SlurmJob {
  if (raw.arraySize === undefined) {
    throw new UserError("--array-size is missing; pass the number of shards (array tasks), e.g. 4");
  }
  return {
    shards: integer("--array-size", raw.arraySize, 1, SLURM_DEFAULT_MAX_ARRAY_SIZE),
    jobName: word("--job-name", raw.jobName) ?? defaults.jobName,
    partition: word("--partition", raw.partition),
    gpusPerTask: optionalInteger("--gpus-per-task", raw.gpusPerTask, 0) ?? defaults.gpusPerTask,
    cpusPerTask: optionalInteger("--cpus-per-task", raw.cpusPerTask, 1),
    mem: pattern("--mem", raw.mem, /^\d+[KMGT]?$/, "a size such as 16G or 4000M"),
    time: pattern(
      "--time",
      raw.time,
      /^(\d+-\d+(:\d+){0,2}|\d+(:\d+){0,2})$/,
      "a limit such as 90 (minutes), 4:00:00 or 1-12:00:00",
    ),
    account: word("--account", raw.account),
    qos: word("--qos", raw.qos),
  };
}

/** A name that goes into one #SBATCH line: no spaces, quotes or line breaks. */
function word(flag: string, value: string | undefined): string | undefined {
  return pattern(flag, value, /^[A-Za-z0-9_.,:@+=-]+$/, "letters, digits and _ . , : @ + = -");
}

function pattern(
  flag: string,
  value: string | undefined,
  re: RegExp,
  what: string,
): string | undefined {
  if (value === undefined || re.test(value)) return value;
  // JSON quoting keeps a value with a line break on the error's one line.
  throw new UserError(`${flag} ${JSON.stringify(value)} is not valid; pass ${what}`);
}

/** `text` as one word for bash: single-quoted unless it is plainly safe. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(text)) return text;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * A path in an #SBATCH line. sbatch reads those lines itself (not bash): it honours double
 * quotes but has no escapes, and `--output` expands %-patterns, so those characters are refused.
 */
function sbatchPath(flag: string, path: string): string {
  if (/["%\\\n]/.test(path)) {
    throw new UserError(
      `The ${flag} path ${
        JSON.stringify(path)
      } holds a quote, %, backslash or line break, which sbatch ` +
        `cannot take; pass an --output-dir without them`,
    );
  }
  return /\s/.test(path) ? `"${path}"` : path;
}

/**
 * The script's text. `rast` is the absolute path of the launcher, `runArgs` the `run` options
 * to repeat, `workDir` where relative paths among them resolve, `logStem` the logs' path
 * without the `-<job>_<task>.out` tail.
 */
export function sbatchScript(
  job: SlurmJob,
  opts: { rast: string; runArgs: string[]; workDir: string; logStem: string },
): string {
  const directives = [
    `--job-name=${job.jobName}`,
    `--array=0-${job.shards - 1}`,
    "--ntasks=1",
    `--chdir=${sbatchPath("working directory", opts.workDir)}`,
    `--output=${sbatchPath("log", opts.logStem).replace(/"?$/, "-%A_%a.out$&")}`,
  ];
  if (job.partition !== undefined) directives.push(`--partition=${job.partition}`);
  if (job.account !== undefined) directives.push(`--account=${job.account}`);
  if (job.qos !== undefined) directives.push(`--qos=${job.qos}`);
  if (job.gpusPerTask > 0) directives.push(`--gpus-per-task=${job.gpusPerTask}`);
  if (job.cpusPerTask !== undefined) directives.push(`--cpus-per-task=${job.cpusPerTask}`);
  if (job.mem !== undefined) directives.push(`--mem=${job.mem}`);
  if (job.time !== undefined) directives.push(`--time=${job.time}`);
  // One option a line, so the script reads as the command it runs.
  const run = [`${shellQuote(opts.rast)} run`, ...opts.runArgs.map(shellQuote)].join(" \\\n  ");
  return [
    "#!/bin/bash",
    `# Written by \`rast slurm\`: a job array of ${job.shards} shards of one rast run. Task i runs`,
    `# shard i/${job.shards} into the run folder all tasks share; the last shard to finish assembles`,
    "# the prediction files and metrics.json. A failed task is rerun alone:",
    `#   sbatch --array=<task id> ${opts.logStem.replace(/.*\//, "")}.sbatch`,
    ...directives.map((d) => `#SBATCH ${d}`),
    "set -euo pipefail",
    // The shard count is written out rather than read from SLURM_ARRAY_TASK_COUNT, which is 1
    // when a single task is resubmitted with --array=<task>.
    `exec ${run} \\\n  --shard "$SLURM_ARRAY_TASK_ID/${job.shards}"`,
    "",
  ].join("\n");
}
