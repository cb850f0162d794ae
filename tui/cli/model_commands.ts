/**
 * Engine debug commands: `info`, `logits` and `generate` (declarations only; the actions live
 * in model_actions.ts and load libtorch lazily).
 */
import { type Command, Option } from "commander";
import { addDeviceOptions, addSamplingOptions, addSteeringOptions } from "./options.ts";

/** Options every model-loading command shares. */
function modelOptions(command: Command): Command {
  return addDeviceOptions(command)
    .option("--model <dir|Org/Name>", "the (base) model: a folder, or a hub id in the HF cache")
    .addOption(new Option("--base-model <dir|Org/Name>", "alias of --model").hideHelp());
}

/** Registers info, logits and generate. */
export function register(program: Command): void {
  modelOptions(
    program.command("info").description(
      "Print a model's architecture, sizes, dtype, vocab and parameter count.",
    ),
  ).option("--json", "print JSON").action(async (options) => {
    const { infoCommand } = await import("./model_actions.ts");
    await infoCommand(options);
  });

  modelOptions(
    program.command("logits").description(
      "Write the logits of every position of a token sequence to a safetensors file " +
        "(one float32 tensor `logits`, shape [T, V]).",
    ),
  )
    .option("--tokens <ids>", "comma-separated token ids, e.g. 5,17,300")
    .option("--out <file.safetensors>", "where to write the logits")
    .action(async (options) => {
      const { logitsCommand } = await import("./model_actions.ts");
      await logitsCommand(options);
    });

  addSamplingOptions(
    addSteeringOptions(modelOptions(
      program.command("generate").description(
        "Decode one prompt with the KV cache, optionally RAST-steered, and print the result.",
      ),
    ))
      .option("--tokens <ids>", "prompt token ids, comma-separated")
      .option("--prompt <text>", "prompt text (needs a tokenizer.json in the base model folder)")
      .option("--max-tokens <n>", "most new tokens (as in run)", "64")
      .addOption(
        new Option("--max-new-tokens <n>", "alias of --max-tokens (transformers' name)").hideHelp(),
      ),
    { temperature: "0", topP: "1.0", topK: "0", seed: "0", seedHelp: "sampling seed" },
  )
    .option("--json", 'print {"tokens": [...]} (and "text" with a tokenizer)')
    .action(async (options, command: Command) => {
      const { generateCommand } = await import("./model_actions.ts");
      await generateCommand(options, command.getOptionValueSource("alpha") !== "default");
    });
}
