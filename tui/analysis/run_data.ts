/**
 * What `rast analyze` reads of a finished (or partial) run folder: run.json's settings, the
 * journal's graded samples, and the token-stats records when the run saved them. A --res-dir is a
 * run folder or any folder above run folders (an α sweep's output dir).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../../engine/errors.ts";
import { readJournal, type SampleRecord } from "../runs/journal.ts";
import { readRunRecord, type RunSettings } from "../runs/run_json.ts";
import { readTokenStats, type TokenStatsRecord } from "./token_stats.ts";

/** One run folder's data. */
export interface RunData {
  dir: string;
  settings: RunSettings;
  /** Journalled samples, "row:sample" → record. */
  samples: ReadonlyMap<string, SampleRecord>;
  /** Token-stats records of journalled samples, "row:sample" → record. */
  stats: ReadonlyMap<string, TokenStatsRecord>;
}

/** Deepest folder level searched below a --res-dir for run.json files. */
const MAX_DEPTH = 4;

/** The run folders at or below `dir`, sorted by path; throws UserError when there are none. */
export function findRunDirs(dir: string, flag = "--res-dir"): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`${flag} "${dir}" is not a folder; pass a run folder or a results folder`);
  }
  const found: string[] = [];
  const walk = (at: string, depth: number) => {
    if (existsSync(join(at, "run.json"))) {
      found.push(resolve(at));
      return;
    }
    if (depth >= MAX_DEPTH) return;
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(at, entry.name), depth + 1);
    }
  };
  walk(dir, 0);
  if (found.length === 0) {
    throw new UserError(
      `${flag} "${dir}" holds no run folder (no run.json at most ${MAX_DEPTH} levels down); pass the folder a \`rast run\` wrote`,
    );
  }
  return found.sort();
}

/** Reads one run folder; stats records without a journalled sample are left out. */
export function loadRun(dir: string): RunData {
  const record = readRunRecord(join(dir, "run.json"));
  const { records } = readJournal(join(dir, "journal.jsonl"));
  const stats = new Map<string, TokenStatsRecord>();
  for (const [key, value] of readTokenStats(dir)) if (records.has(key)) stats.set(key, value);
  return { dir, settings: record.settings, samples: records, stats };
}

/** The steering strength of a run: its pairs' weights summed (0 without pairs). */
export function alphaOf(settings: RunSettings): number {
  return settings.pairs.reduce((sum, p) => sum + p.weight, 0);
}
