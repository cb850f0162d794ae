/**
 * `rast run`: sample a dataset with RAST and write the authors' results layout. Declares options
 * only; the action imports the implementation lazily so --help stays instant.
 */
import type { Command } from "commander";
import { addDeviceOptions, addSteeringOptions, repeatable } from "./options.ts";

/** Registers `run` on the program. */
export function register(program: Command): void {
  const command = program
    .command("run")
    .description(
      "Answer each dataset question --num-runs times with RAST decoding, grade the answers, and " +
        "write prediction-<i>.jsonl, run.json and metrics.json into " +
        "<output-dir>/<dataset>/<base>_<neg>_alpha_<a>_temp_<t>/. Rerun the same command to " +
        "resume an interrupted run.",
    )
    .option(
      "--dataset <name|path>",
      "math500, aime24, amc23, minerva_math, olympiadbench, gsm8k, or a JSONL file",
    )
    .option(
      "--data-dir <dir>",
      "folder with <name>/test.jsonl (default: $RAST_DATA_DIR, else datasets/)",
    )
    .option(
      "--base-model <dir|Org/Name>",
      "the large base model: a folder, or a hub id in the HF cache",
    );
  addDeviceOptions(addSteeringOptions(command))
    .option("--temperature <number>", "sampling temperature (0 = greedy)", "1.0")
    .option("--top-p <number>", "nucleus sampling mass, in (0, 1]", "0.95")
    .option("--max-tokens <n>", "most new tokens per answer", "16384")
    .option("--num-runs <n>", "samples per question (prediction-0 .. prediction-<n-1>)", "32")
    .option("--seed <n>", "base seed; sample i of row r is seeded from (seed, r, i)", "0")
    .option(
      "--prompt-template <name|text|file>",
      "abel, qwen-boxed, chat (the model's own), a string with {input}, or @file",
      "abel",
    )
    .addOption(repeatable("--stop <text>", "a stop string, replacing the defaults"))
    .option("--max-concurrent <n>", "most sequences decoded at once (default 32)")
    .option("--kv-memory <GiB>", "most memory the KV caches of all models may take")
    .option("--limit <n>", "only the first n rows (of the --start/--end window)")
    .option("--start <n>", "first data row, 0-based (the run covers rows start..end-1)")
    .option("--end <n>", "the row after the last one")
    .option("--output-dir <dir>", "results root", "results")
    .option("--batch", "no TUI: a progress line on stderr (implied when stdout is not a terminal)")
    .option("--json", "JSONL events on stdout (implies --batch)")
    .addHelpText(
      "after",
      "\nWith --start/--end/--limit the prediction files hold only that window's rows, in data\n" +
        "file order; run.json records the window (settings.dataset.start and .end).",
    )
    .action(async (options, command: Command) => {
      const { runCommand } = await import("./run_action.ts");
      await runCommand(options, {
        alphaGiven: command.getOptionValueSource("alpha") !== "default",
        command: [...Deno.args],
      });
    });
}
