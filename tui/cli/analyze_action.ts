/**
 * `rast analyze`'s implementation: check every option and find every run folder before anything
 * is written, analyse, write analysis.json (and the figures with --plot), print the summary.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../../engine/errors.ts";
import { analyze, defaultBehaviours, findRunDirs, loadBehaviours } from "../analysis/mod.ts";
import { formatAnalysis } from "../analysis/report.ts";
import { writeTextAtomic } from "../runs/atomic.ts";
import { integer } from "./options.ts";

/** The options as commander hands them over. */
export interface RawAnalyzeOptions {
  resDir?: string[];
  referenceResDir?: string[];
  behaviours?: string;
  top: string;
  output?: string;
  plot?: boolean;
  json?: boolean;
}

/** Runs `rast analyze`; throws UserError for bad input. */
export async function analyzeCommand(raw: RawAnalyzeOptions): Promise<void> {
  const resDirs = raw.resDir ?? [];
  if (resDirs.length === 0) {
    throw new UserError("--res-dir is missing; pass a run folder or a folder of runs");
  }
  const top = integer("--top", raw.top, 1);
  const behaviours = raw.behaviours ? loadBehaviours(raw.behaviours) : defaultBehaviours();
  const dirs = [...new Set(resDirs.flatMap((d) => findRunDirs(d)))];
  const references = [
    ...new Set((raw.referenceResDir ?? []).flatMap((d) => findRunDirs(d, "--reference-res-dir"))),
  ];
  const output = raw.output ?? resDirs[0];
  if (existsSync(output) && !statSync(output).isDirectory()) {
    throw new UserError(`--output "${output}" is a file; pass a folder`);
  }
  const analysis = analyze(dirs, { behaviours, referenceDirs: references, top });
  Deno.mkdirSync(output, { recursive: true });
  const path = join(output, "analysis.json");
  const text = JSON.stringify(analysis, null, 2) + "\n";
  await writeTextAtomic(path, text);
  if (raw.json) console.log(text.trimEnd());
  else console.log(formatAnalysis(analysis));
  console.error(`rast: analysis written to ${path}`);
  if (raw.plot) {
    const { writeFigures } = await import("../analysis/plots.ts");
    const figures = await writeFigures(analysis, output);
    console.error(`rast: figures written: ${figures.join(", ")}`);
  }
}
