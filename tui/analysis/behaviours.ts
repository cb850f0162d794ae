/**
 * Reasoning-behaviour counters in the style of the paper's categories (branching, backtracking,
 * verification): phrases from an editable word list (behaviours.json, or --behaviours FILE)
 * counted in answer texts. The one counting rule used by `rast analyze` and the TUI's panel.
 */
import { readFileSync } from "node:fs";
import { UserError } from "../../engine/errors.ts";

/** Category name → its phrases. */
export type BehaviourList = Readonly<Record<string, readonly string[]>>;

/** Category name → occurrences in one text (or summed over texts). */
export type BehaviourCounts = Record<string, number>;

/** The list shipped with rast (tui/analysis/behaviours.json). */
export function defaultBehaviours(): BehaviourList {
  return parseBehaviours(
    readFileSync(new URL("./behaviours.json", import.meta.url), "utf8"),
    "tui/analysis/behaviours.json",
  );
}

/** Reads a list file: a JSON object of category → phrases; keys starting with "_" are comments. */
export function loadBehaviours(path: string): BehaviourList {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(
      `--behaviours "${path}" cannot be read; pass a JSON file of category → phrases`,
    );
  }
  return parseBehaviours(text, path);
}

function parseBehaviours(text: string, where: string): BehaviourList {
  const fix = 'write {"category": ["phrase", ...], ...}';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UserError(`Behaviour list "${where}" is not JSON; ${fix}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UserError(`Behaviour list "${where}" is not a JSON object; ${fix}`);
  }
  const list: Record<string, string[]> = {};
  for (const [name, phrases] of Object.entries(value)) {
    if (name.startsWith("_")) continue;
    const ok = Array.isArray(phrases) &&
      phrases.every((p) => typeof p === "string" && p.trim() !== "");
    if (!ok) {
      throw new UserError(
        `Behaviour list "${where}": category "${name}" is not a list of non-empty phrases; ${fix}`,
      );
    }
    list[name] = phrases as string[];
  }
  if (Object.keys(list).length === 0) {
    throw new UserError(`Behaviour list "${where}" has no category; ${fix}`);
  }
  return list;
}

const cache = new WeakMap<BehaviourList, [string, RegExp[]][]>();

/** One regex per phrase: case-insensitive, whole words, whitespace as any whitespace run. */
function matchers(list: BehaviourList): [string, RegExp[]][] {
  let compiled = cache.get(list);
  if (!compiled) {
    compiled = Object.entries(list).map(([name, phrases]) => [
      name,
      phrases.map((phrase) => {
        const body = phrase.trim().split(/\s+/).map(escapeRegExp).join("\\s+");
        return new RegExp(`(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`, "giu");
      }),
    ]);
    cache.set(list, compiled);
  }
  return compiled;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Occurrences of each category's phrases in `text` (non-overlapping, per phrase). */
export function countBehaviours(text: string, list: BehaviourList): BehaviourCounts {
  const counts: BehaviourCounts = {};
  for (const [name, regexes] of matchers(list)) {
    let n = 0;
    for (const re of regexes) n += text.match(re)?.length ?? 0;
    counts[name] = n;
  }
  return counts;
}

/** Adds `more` into `into` category by category. */
export function addCounts(into: BehaviourCounts, more: BehaviourCounts): BehaviourCounts {
  for (const [name, n] of Object.entries(more)) into[name] = (into[name] ?? 0) + n;
  return into;
}
