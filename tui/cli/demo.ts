/**
 * `rast demo`: the live TUI on a fresh machine, with no GPU and no downloads — by default the
 * trained miniarith trio shipped in datasets/miniarith (RAST recovering a small model's RL gain
 * on a larger base), with --table the six-run table that measures it, and with --random the
 * random-weight trio that only shows the machinery. Declares options only; the action imports
 * the implementation lazily.
 */
import type { Command } from "commander";

/** Registers `demo` on the program. */
export function register(program: Command): void {
  program
    .command("demo")
    .summary("Show RAST live on the trained miniarith trio (no GPU, no downloads)")
    .description(
      "Show RAST decoding live with the trained miniarith trio shipped in datasets/miniarith: a " +
        "~0.96M-parameter base steered by the RL delta of a ~0.33M-parameter pair, answering the " +
        "held-out miniarith questions, with the base's own accuracy (from the shipped table) " +
        "beside RAST's. --table measures it: base, negative and positive alone and RAST at " +
        "alpha 0.5, 1 and 1.5, each through the normal run path. --random uses a random-weight " +
        "trio on datasets/demo.jsonl instead (word salad; only the machinery is real). Ends " +
        "after --duration seconds, when every sample is done, or on q.",
    )
    .option("--table", "run the six-run table (k = --num-runs samples per question) and print it")
    .option("--json", "with --table: print the table as one JSON object on stdout")
    .option("--random", "use the random-weight trio on datasets/demo.jsonl instead")
    .option("--duration <seconds>", "stop after this many seconds (not with --table)", "90")
    .option("--num-runs <n>", "samples per question", "4")
    .option("--max-tokens <n>", "most new tokens per answer (default 64; 160 with --random)")
    .option("--seed <n>", "base seed", "0")
    .option(
      "--output-dir <dir>",
      "results root (default: a temp folder removed at the end; with --table the demo cache, so a rerun resumes)",
    )
    .option("--batch", "no TUI: a progress line on stderr (implied when stdout is not a terminal)")
    .addHelpText(
      "after",
      "\nRetrain the trio (about 23 minutes on one core; see the README):\n" +
        "  python scripts/mini_repro/train.py\n" +
        "With real models:\n  ./rast run --dataset math500 --base-model Qwen/Qwen2.5-14B \\\n" +
        "    --positive-model hkust-nlp/Qwen-2.5-1.5B-SimpleRL-Zoo \\\n" +
        "    --negative-model Qwen/Qwen2.5-1.5B",
    )
    .action(async (options) => {
      const { demoCommand } = await import("./demo_action.ts");
      await demoCommand(options, { command: [...Deno.args] });
    });
}
