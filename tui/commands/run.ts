/**
 * `rast run`: sample a dataset with RAST and write the authors' results layout. Declares options
 * only; the action imports the implementation lazily so --help stays instant.
 */
import { type Command, Option } from "commander";

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...previous ?? [],
  value,
];

/** Registers `run` on the program. */
export function register(program: Command): void {
  program
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
    .option("--data-dir <dir>", "folder holding <name>/test.jsonl for registry datasets")
    .option(
      "--base-model <dir|Org/Name>",
      "the large base model: a folder, or a hub id in the HF cache",
    )
    .option("--positive-model <dir|Org/Name>", "the small RL-tuned model")
    .option("--negative-model <dir|Org/Name>", "the small model before RL")
    .option("--alpha <number>", "weight of the positive − negative logit delta", "1.0")
    .addOption(
      new Option("--pair <POS:NEG:WEIGHT>", "another steering pair and its weight (repeatable)")
        .argParser(collect),
    )
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
    .addOption(
      new Option("--stop <text>", "a stop string, replacing the defaults (repeatable)")
        .argParser(collect),
    )
    .option("--tensor-parallel-size <n>", "GPUs to split the base model across", "1")
    .option("--dtype <type>", "float32, bfloat16 or float16 (default: the checkpoint's)")
    .option("--device <name>", "cpu, cuda, cuda:1, ... (default: cuda when available)")
    .option("--max-concurrent <n>", "most sequences decoded at once")
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
