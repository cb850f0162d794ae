/**
 * rast's command line. Each command lives in tui/cli/<name>.ts and exports
 * `register(program)`; registration only declares options, and every action imports the heavy
 * modules (libtorch through FFI, Ink) lazily, so `--help` and argument errors stay instant.
 */
import { Command, CommanderError } from "commander";
import { commandModules } from "./tui/cli/mod.ts";
import { UserError } from "./engine/errors.ts";

const program = new Command()
  .name("rast")
  .description(
    "RAST: steer a base LLM with the logit delta of a small RL-tuned model (positive) and its\n" +
      "pre-RL original (negative), and evaluate it on math benchmarks.",
  )
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride();

for (const register of commandModules) register(program);

try {
  // Under torchrun / srun every rank runs this same command line: rank 0 runs the command, the
  // others serve its calls on their shards and leave with its exit code (engine/world.ts).
  if (Deno.env.get("WORLD_SIZE")) {
    const { followWorld, joinWorld } = await import("./engine/world.ts");
    if ((await joinWorld()).rank !== 0) Deno.exit(await followWorld());
  }
  await program.parseAsync(Deno.args, { from: "user" });
} catch (err) {
  if (err instanceof CommanderError) Deno.exit(err.exitCode);
  if (err instanceof UserError) {
    console.error(`rast: ${err.message}`);
    Deno.exit(2);
  }
  const message = err instanceof Error ? err.message : String(err);
  console.error(`rast: ${message}`);
  if (Deno.env.get("RAST_DEBUG") && err instanceof Error) console.error(err.stack);
  Deno.exit(1);
}
// Exit now that the command is done: a grading worker terminated in the middle of a step V8
// cannot interrupt (arithmetic on a 100,000-digit number) would otherwise hold the process
// for as long as that step runs, after every result is written.
Deno.exit();
