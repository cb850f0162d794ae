/**
 * `rast demo`: the live TUI on a fresh machine, with no GPU and no downloads — a random-weight
 * model trio built once into the cache, answering the project's own demo questions for a bounded
 * time. Declares options only; the action imports the implementation lazily.
 */
import type { Command } from "commander";

/** Registers `demo` on the program. */
export function register(program: Command): void {
  program
    .command("demo")
    .summary("Show the live TUI on a random-weight demo trio (no GPU, no downloads)")
    .description(
      "Show RAST decoding live with a small random-weight model trio (built once into the cache; " +
        "no downloads, no GPU) on datasets/demo.jsonl. The weights are random: the answers are " +
        "word salad and the accuracy means nothing. Ends after --duration seconds, when every " +
        "sample is done, or on q.",
    )
    .option("--duration <seconds>", "stop after this many seconds", "90")
    .option("--num-runs <n>", "samples per question", "4")
    .option("--max-tokens <n>", "most new tokens per answer", "160")
    .option("--seed <n>", "base seed", "0")
    .option("--output-dir <dir>", "results root (default: a new folder in the temp directory)")
    .option("--batch", "no TUI: a progress line on stderr (implied when stdout is not a terminal)")
    .addHelpText(
      "after",
      "\nWith real models:\n  ./rast run --dataset math500 --base-model Qwen/Qwen2.5-14B \\\n" +
        "    --positive-model hkust-nlp/Qwen-2.5-1.5B-SimpleRL-Zoo \\\n" +
        "    --negative-model Qwen/Qwen2.5-1.5B",
    )
    .action(async (options) => {
      const { demoCommand } = await import("./demo_action.ts");
      await demoCommand(options, { command: [...Deno.args] });
    });
}
