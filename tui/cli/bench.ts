/** `rast bench`: measured engine speed on CPU (or the device given). Declarations only. */
import type { Command } from "commander";

/** Registers `bench`. */
export function register(program: Command): void {
  program
    .command("bench")
    .description(
      "Measure prefill tokens/s, decode ms/step and the share of a step spent outside the shim, " +
        "for the tiny fixtures and for generated random-weight models of realistic small shapes; " +
        "then RAST trio steps at batch 1, 8 and 32.",
    )
    .option("--fixtures <dir>", "the tiny fixtures folder (default test/fixtures/tiny)")
    .option("--steps <n>", "decode steps per measurement", "32")
    .option("--quick", "smaller generated models (for a smoke run)")
    .option("--device <name>", "cpu or cuda:N", "cpu")
    .option(
      "--dtype <type>",
      "float32, bfloat16 or float16 (default float32; bfloat16 for real shapes on a GPU)",
    )
    .option("--json", "print the results as JSON")
    .option(
      "--workload",
      "instead: replay a MATH500 x 32 answer-length distribution (lognormal, median 1,200 " +
        "tokens, 2% at the 16,384 limit) through the real scheduler at a KV budget, steps " +
        "costed at the bandwidth floor of the Qwen2.5-14B + 2 x 1.5B trio on an H200; the " +
        "fixed-slot scheme beside it",
    )
    .option("--kv-memory <GiB>", "the workload's KV budget (default 89: an H200 beside the trio)")
    .option(
      "--shapes <base,pair>",
      "real shapes with random weights drawn on the device, no download: the base and the pair " +
        "model's shape, of Qwen2.5-14B, Qwen2.5-7B, Qwen2.5-1.5B, tiny-qwen2 (default on a GPU: " +
        "Qwen2.5-14B,Qwen2.5-1.5B, the published trio)",
    )
    .option("--batches <list>", "batch sizes of the --shapes run", "1,8,32,128,256")
    .option("--context <n>", "tokens of context per sequence in the --shapes run", "512")
    .option("--enforce-eager", "no CUDA graphs in the --shapes run")
    .option("--questions <n>", "the workload's questions (default 500)")
    .action(async (options) => {
      const { benchCommand } = await import("./bench_action.ts");
      await benchCommand(options);
    });
}
