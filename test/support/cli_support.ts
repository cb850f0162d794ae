/** What the CLI tests share: a small gsm8k-style data folder and a `rast` subprocess. */
import { join } from "node:path";
import { REPO_ROOT } from "./paths.ts";

/** A deterministic stand-in for engine/mod.ts (RAST_ENGINE_MODULE): runs without libtorch. */
export const FAKE_ENGINE = join(REPO_ROOT, "test", "support", "fake_run_engine.ts");
/** The shim the launcher built (or RAST_LIB's). */
export const SHIM = Deno.env.get("RAST_LIB") ?? join(REPO_ROOT, "ffi", "build", "librast.so");

/** A data folder under `parent` with `rows` gsm8k rows ("What is i + 0?", gold i % 4). */
export function makeDataDir(parent: string, rows = 4): string {
  const dataDir = Deno.makeTempDirSync({ dir: parent, prefix: "rast-cli-data-" });
  Deno.mkdirSync(join(dataDir, "gsm8k"));
  const lines = Array.from(
    { length: rows },
    (_, i) => JSON.stringify({ question: `What is ${i} + 0?`, answer: `#### ${i % 4}` }),
  );
  Deno.writeTextFileSync(join(dataDir, "gsm8k", "test.jsonl"), lines.join("\n") + "\n");
  return dataDir;
}

/** `rast ARGS` as a subprocess of main.ts, with pipes and no input. */
export function rastCommand(args: string[], env: Record<string, string> = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "-A", join(REPO_ROOT, "main.ts"), ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}
