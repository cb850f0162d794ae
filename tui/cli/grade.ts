/** `rast grade`: grade answers line by line. Declares options; the action loads the grader lazily. */
import type { Command } from "commander";
import { addGradingOptions } from "./options.ts";

/** Registers `grade` on the program. */
export function register(program: Command): void {
  const command = program
    .command("grade")
    .description(
      'Grade JSONL lines {"output": <model text>, "gold": ...} or {"pred": <extracted answer>, ' +
        '"gold": ...} (optional "dataset" for its rules). Writes one line per input, in order: ' +
        '{"extracted", "gold", "correct", "timeout"} with normalised answers.',
    )
    .option("--in <file>", "input JSONL, or - for stdin")
    .option("--out <file>", "output JSONL, or - for stdout", "-")
    .option("--dataset <name>", "rules for lines without a dataset field (e.g. minerva_math)");
  addGradingOptions(command)
    .action(async (flags) => {
      const { runGrade } = await import("./eval_action.ts");
      await runGrade(flags);
    });
}
