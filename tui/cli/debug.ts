/**
 * `rast debug`: step through one answer token by token, showing the top tokens of the base, each
 * positive and negative model, and the combination. Declares options only; the action imports
 * the implementation lazily so --help stays instant.
 */
import type { Command } from "commander";
import {
  addDatasetOptions,
  addDeviceOptions,
  addModelOptions,
  addPromptOptions,
  addSamplingOptions,
} from "./options.ts";

/** Registers `debug` on the program. */
export function register(program: Command): void {
  const command = program
    .command("debug")
    .summary("Step through one answer token by token: top tokens of each model, deltas")
    .description(
      "Decode one question's answer a token at a time: for every step the top tokens of the " +
        "base, positive, negative and combined distributions with probabilities, the logit " +
        "deltas and the chosen token. Keys: space/enter/s one token, n to the next sentence, " +
        "e to the end, q quit. Without a terminal (or with --batch) it runs to the end and " +
        "prints one line per step. Without model options it uses the trained miniarith trio (datasets/miniarith).",
    )
    .option("--question <text>", "the question to answer (rendered with --prompt-template)");
  addDatasetOptions(command, "take the question from this dataset (with --index)")
    .option("--index <n>", "row of --dataset, 0-based (default 0)")
    .option("--tokens <ids>", "the prompt as comma-separated token ids (no template applied)");
  addSamplingOptions(
    addDeviceOptions(
      addModelOptions(command, "the large base model (default: the trained miniarith trio)"),
    ),
    {
      temperature: "1.0",
      topP: "0.95",
      topK: "0",
      seed: "0",
      seedHelp: "seed of the sample",
    },
  )
    .option("--max-tokens <n>", "most new tokens", "1024");
  addPromptOptions(command, {
    templateNote: "(default: miniarith for the trained trio, else abel)",
    stopHelp: "a stop string, replacing the defaults",
  })
    .option("--show <n>", "tokens in each top list", "5")
    .option("--trace <file.jsonl>", "write each step's full record as one JSON line")
    .option("--batch", "no TUI: run to the end and print a table (implied without a terminal)")
    .action(async (options, command: Command) => {
      const { debugCommand } = await import("./debug_action.ts");
      await debugCommand(options, {
        alphaGiven: command.getOptionValueSource("alpha") !== "default",
      });
    });
}
