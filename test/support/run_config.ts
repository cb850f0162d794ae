/** The run settings the resume, grow and in-flight suites start from: the tiny trio on gsm8k. */
import { join } from "node:path";
import type { RunConfig } from "../../tui/runs/plan.ts";
import { FIXTURES_DIR } from "./paths.ts";

/** A data folder under `parent` holding `rows` as gsm8k/test.jsonl. */
export function gsm8kDataDir(parent: string, rows: readonly object[], prefix?: string): string {
  const dataDir = Deno.makeTempDirSync({ dir: parent, prefix });
  Deno.mkdirSync(join(dataDir, "gsm8k"));
  Deno.writeTextFileSync(
    join(dataDir, "gsm8k", "test.jsonl"),
    rows.map((r) => JSON.stringify(r)).join("\n") + "\n",
  );
  return dataDir;
}

/** The tiny trio (α 1) sampling at temperature 1, top-p 0.95, 200 tokens; `over` wins. */
export function fixtureRunConfig(
  dataDir: string,
  outputDir: string,
  over: Partial<RunConfig> & Pick<RunConfig, "numRuns" | "seed">,
): RunConfig {
  return {
    dataset: "gsm8k",
    dataDir,
    baseModel: join(FIXTURES_DIR, "base"),
    pairs: [{
      positive: join(FIXTURES_DIR, "pos"),
      negative: join(FIXTURES_DIR, "neg"),
      weight: 1,
    }],
    temperature: 1,
    topP: 0.95,
    maxTokens: 200,
    promptTemplate: "abel",
    tensorParallelSize: 1,
    outputDir,
    ...over,
  };
}
