/** `rast eval`: grade a results folder. Declares options; the action loads the grader lazily. */
import type { Command } from "commander";
import { addDatasetOptions, addGradingOptions } from "./options.ts";

/** Registers `eval` on the program. */
export function register(program: Command): void {
  const command = addDatasetOptions(
    program
      .command("eval")
      .description(
        "Grade prediction-<i>.jsonl files (one line per dataset row with model_output, the " +
          "authors' layout) with the authors' answer extraction and equivalence rules; write " +
          "metrics.json and verdicts.jsonl beside them and print mean / run-0 accuracy, pass@k, maj@k and breakdowns.",
      ),
    "the benchmark graded (default: the authors' dataset folder holding --res-dir)",
  )
    .option("--res-dir <dir>", "folder holding prediction-0.jsonl, prediction-1.jsonl, ...")
    .option("--k <n>", "largest k for pass@k and maj@k (default: the number of files)");
  addGradingOptions(command)
    .option(
      "--maj-rule <rule>",
      "maj@k shown: equivalence (correct answers and close numbers vote together, first k " +
        "samples) or authors (math_eval_pred.py: exact answers, random k-subsets and ties, as " +
        "its expected value); metrics.json holds both",
      "equivalence",
    )
    .option("--json", "print metrics.json instead of the table")
    .addHelpText(
      "after",
      "\npass@k is the unbiased estimator 1 - C(n-c,k)/C(n,k): the expected value of the authors'\n" +
        "pass@k over random k-subsets. verdicts.jsonl beside metrics.json has one line per sample\n" +
        "(row, sample, extracted, gold, correct, timeout, error); errors are counted apart.",
    )
    .action(async (flags) => {
      const { runEval } = await import("./eval_action.ts");
      await runEval(flags);
    });
}
