/**
 * `rast run`: sample a dataset with RAST and write the authors' results layout. Declares options
 * only; the action imports the implementation lazily so --help stays instant.
 */
import { type Command, Option } from "commander";
import {
  addDatasetOptions,
  addDeviceOptions,
  addModelOptions,
  addPromptOptions,
  addSamplingOptions,
  repeatable,
} from "./options.ts";

/** Registers `run` on the program. */
export function register(program: Command): void {
  const command = program
    .command("run")
    .description(
      "Answer each dataset question --num-runs times with RAST decoding, grade the answers, and " +
        "write prediction-<i>.jsonl, run.json, metrics.json and verdicts.jsonl into " +
        "<output-dir>/<dataset>/<base>_<neg>_alpha_<a>_temp_<t>/. Rerun the same command to " +
        "resume an interrupted run, with a larger --num-runs to add samples, or a smaller one " +
        "to report on the first n.",
    );
  addRunOptions(command)
    .addHelpText(
      "after",
      "\nWith --start/--end/--limit the prediction files hold only that window's rows, in data\n" +
        "file order; run.json records the window (settings.dataset.start and .end).\n" +
        "Generation stops on the eos_token_id of every model's generation_config.json, the\n" +
        "tokenizer's eos, the chat end token (<|im_end|>, <|eot_id|>) for chat prompts and\n" +
        "--stop-id; run.json lists them (settings.stopIds).\n" +
        "pass@k is the unbiased estimator 1 - C(n-c,k)/C(n,k), the expected value of the authors'\n" +
        "pass@k; --maj-rule authors is their math_eval_pred.py vote as its expected value.",
    )
    .action(async (options, command: Command) => {
      const { runCommand } = await import("./run_action.ts");
      await runCommand(options, {
        alphaGiven: command.getOptionValueSource("alpha") !== "default",
        command: [...Deno.args],
      });
    });
}

/** Declares every option of `run` on `command` (`slurm` takes the same ones). */
export function addRunOptions(command: Command): Command {
  addDatasetOptions(command);
  addSamplingOptions(
    addDeviceOptions(
      addModelOptions(
        command,
        "the large base model: a folder, or a hub id (downloaded into the HF cache if missing)",
      ),
    ),
    {
      temperature: "1.0",
      topP: "0.95",
      seed: "0",
      seedHelp: "base seed; sample i of row r is seeded from (seed, r, i)",
    },
  )
    .option("--max-tokens <n>", "most new tokens per answer", "16384")
    .option(
      "--num-runs <n>",
      "samples per question (prediction-0 .. prediction-<n-1>), at most 10000",
      "32",
    );
  addPromptOptions(command, {
    templateDefault: "abel",
    stopHelp: "a stop string, beside the template's",
  })
    .addOption(
      repeatable(
        "--stop-id <id>",
        "a token id to stop on, beside the models' eos ids and the chat end token",
      ),
    )
    .option(
      "--layout <rast|authors>",
      "folder names: rast's, or the authors' (<DATASET>/<base suffix>_<neg suffix>_alpha_<a>_" +
        "temp_<t>, baseline/<DATASET>/<Org-Name>_temp_<t> without pairs)",
      "rast",
    )
    .option(
      "--maj-rule <rule>",
      "maj@k in the summary and the TUI: equivalence or authors (metrics.json holds both)",
      "equivalence",
    )
    .option(
      "--max-concurrent <n>",
      "upper bound on sequences decoded at once (default 256); free KV blocks decide below it",
    )
    .option(
      "--kv-memory <GiB>",
      "memory of the paged KV caches of all models (default: sized from the device's memory)",
    )
    .option(
      "--gpu-memory-utilization <share>",
      "share of the GPU's memory rast may use in all, weights included (default 0.9, as vLLM)",
    )
    .option("--block-size <n>", "positions per KV block (default 256 on CUDA, 16 on CPU)")
    .option(
      "--deterministic",
      "batch-invariant arithmetic: a sample's tokens do not depend on what shares its batch " +
        "(concurrency, preemption, resume). Cost measured on the tiny fixture trio, batch 32, " +
        "CPU: 69-89 ms/step without, 126-195 with (1.4-2.8x); not yet measured on CUDA. " +
        "Without it a sample depends on (seed, row, sample) only up to floating-point " +
        "reduction order, so outputs can differ with batch composition, as in vLLM",
    )
    .option("--limit <n>", "only the first n rows (of the --start/--end window)")
    .option("--start <n>", "first data row, 0-based (the run covers rows start..end-1)")
    .option("--end <n>", "the row after the last one")
    .option("--output-dir <dir>", "results root", "results")
    .option(
      "--shard <i/N>",
      "run only shard i of N (contiguous slices of the rows; default: the Slurm array task's, " +
        "from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT); all shards share one run folder " +
        "and the last to finish writes the prediction files and metrics.json",
    )
    .option(
      "--data-parallel-size <n>",
      "worker processes, each with its own --tensor-parallel-size devices (CUDA_VISIBLE_DEVICES), " +
        "taking shards of the run from a shared queue (default 1)",
    )
    .addOption(
      new Option("--data-parallel-worker <n>", "(internal) a worker of n taking shards")
        .hideHelp(),
    )
    .option(
      "--wait",
      "if another process is writing this run's folder, wait for it instead of refusing",
    )
    .option("--batch", "no TUI: a progress line on stderr (implied when stdout is not a terminal)")
    .option("--json", "JSONL events on stdout (implies --batch)")
    .option(
      "--save-stats",
      "write token-stats-<i>.jsonl: per generated token its id, base and combined log-probs, " +
        "delta, the base's argmax and both entropies, for `rast analyze` (default: on in the " +
        "TUI, off with --batch)",
    )
    .option("--no-save-stats", "do not write token-stats files, even in the TUI");
  return command;
}
