/** `rast status`: a run folder's progress, shard by shard, from its files alone. */
import type { Command } from "commander";
import { UserError } from "../../engine/errors.ts";

/** Registers `status` on the program. */
export function register(program: Command): void {
  program
    .command("status")
    .description(
      "Show a run folder's progress from its files alone: per shard (or for an unsharded run) " +
        "samples done / total, in flight, failed, whether a process holds it now (pid, host), " +
        "and whether the prediction files and metrics.json are assembled.",
    )
    .option("--res-dir <dir>", "the run folder (the one holding run.json)")
    .option("--json", "print the status as one JSON object")
    .action(async (flags: { resDir?: string; json?: boolean }) => {
      if (!flags.resDir) throw new UserError("--res-dir is missing; pass the run folder");
      const { formatRunStatus, runStatus } = await import("../runs/status.ts");
      const status = runStatus(flags.resDir);
      console.log(flags.json ? JSON.stringify(status) : formatRunStatus(status));
    });
}
