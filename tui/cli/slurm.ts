/**
 * `rast slurm`: the options of `run` plus the job's resources; writes an sbatch script for a
 * job array over shards of the run and, with --submit, submits it. Declares options only; the
 * action imports the implementation lazily so --help stays instant.
 */
import type { Command } from "commander";
import { addRunOptions } from "./run.ts";

/** Registers `slurm` on the program. */
export function register(program: Command): void {
  addRunOptions(
    program
      .command("slurm")
      .description(
        "Write an sbatch script for a Slurm job array that runs `rast run` with these options, " +
          "one array task per shard (--shard <task>/<array-size>), all into the one run folder; " +
          "with --submit, submit it and print the job id. The run options are checked as `run` " +
          "checks them before anything is written.",
      ),
  )
    .option("--array-size <n>", "shards of the run: array tasks 0..n-1 (required)")
    .option("--partition <name>", "the partition to run in (default: the cluster's)")
    .option(
      "--gpus-per-task <n>",
      "GPUs of each task (default: --tensor-parallel-size; 0 with --device cpu)",
    )
    .option("--cpus-per-task <n>", "CPUs of each task (default: the cluster's)")
    .option("--mem <size>", "memory of each task, e.g. 64G (default: the cluster's)")
    .option("--time <limit>", "time limit of each task, e.g. 4:00:00 or 1-00:00:00")
    .option("--account <name>", "the account to charge")
    .option("--qos <name>", "the quality of service")
    .option("--job-name <name>", "the job's name (default: rast-<dataset>)")
    .option("--submit", "run `sbatch --parsable` on the script and print the job id")
    .addHelpText(
      "after",
      "\nThe script is <output-dir>/slurm/rast-<dataset>-<run folder>.sbatch and each task logs\n" +
        "to the same path with -<job>_<task>.out; tasks start in this directory, so relative\n" +
        "paths mean what they mean here. Without --submit the script's path is printed; with\n" +
        "it, the job id (the path goes to stderr). A failed task is rerun alone with\n" +
        "`sbatch --array=<task> <script>`; the others' samples are kept.",
    )
    .action(async (options, command: Command) => {
      const { slurmCommand } = await import("./slurm_action.ts");
      await slurmCommand(options, command);
    });
}
