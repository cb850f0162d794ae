/**
 * `rast analyze`: the paper's analyses over finished runs (path coverage, boosted and suppressed
 * tokens, behaviour counters, entropy by level, Δ similarity, accuracy vs α, pass@k vs k), and
 * with --plot their figures. Declares options only; the action loads tui/analysis lazily.
 */
import type { Command } from "commander";
import { repeatable } from "./options.ts";

/** Registers `analyze` on the program. */
export function register(program: Command): void {
  program
    .command("analyze")
    .description(
      "Analyse run folders: path coverage (share of tokens equal to the base's argmax) per run, " +
        "level and correctness; the most boosted and suppressed chosen tokens; reasoning-" +
        "behaviour counters and their correlation with correctness; entropy of base vs " +
        "combined by level; accuracy vs α and pass@k vs k across the folders; with " +
        "--reference-res-dir the cosine similarity of the deltas. Prints a summary and writes " +
        "analysis.json. Token figures need runs made with --save-stats.",
    )
    .addOption(
      repeatable("--res-dir <dir>", "a run folder, or a folder above run folders (an α sweep)"),
    )
    .addOption(
      repeatable(
        "--reference-res-dir <dir>",
        "runs whose deltas each run is compared with (e.g. the large pair's own run)",
      ),
    )
    .option(
      "--behaviours <file.json>",
      "behaviour word list (default tui/analysis/behaviours.json)",
    )
    .option("--top <n>", "length of the boosted and suppressed token lists", "20")
    .option(
      "--output <dir>",
      "where analysis.json (and the figures) go (default: the first --res-dir)",
    )
    .option(
      "--plot",
      "also write pass@k, accuracy vs α, path coverage and top-token figures (SVG + PNG)",
    )
    .option("--json", "print analysis.json on stdout instead of the summary")
    .action(async (options) => {
      const { analyzeCommand } = await import("./analyze_action.ts");
      await analyzeCommand(options);
    });
}
