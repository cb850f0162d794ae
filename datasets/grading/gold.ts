/** Gold answers normalised as the harness's parse_ground_truth leaves them, per dataset. */
import { finishCandidate } from "./extract.ts";
import { stripString } from "./normalize.ts";

/**
 * How a raw gold answer is normalised before comparison: `math` (math500) extracts then strips
 * twice, `minerva` keeps units and only rewrites \neq \leq \geq, `plain` strips once.
 */
export type GoldRule = "math" | "minerva" | "plain";

/**
 * The harness's parse_ground_truth, by data name (rast's names and the authors' aliases): the
 * MATH sets extract from the solution, Minerva keeps units; every other set strips once.
 */
const GOLD_RULES: Readonly<Record<string, GoldRule>> = {
  math: "math",
  math500: "math",
  MATH: "math",
  minerva_math: "minerva",
  Minerva: "minerva",
};

/** The normalisation rule for gold answers of `dataset` (plain for unlisted names). */
export function goldRuleOf(dataset: string | undefined): GoldRule {
  return (dataset && Object.hasOwn(GOLD_RULES, dataset)) ? GOLD_RULES[dataset] : "plain";
}

/**
 * Normalise a raw gold answer (a dataset row's gold, or a user's reference answer) for `dataset`:
 * math500 extracts (cleans and strips) and strips again; minerva_math cleans with units kept and
 * only rewrites \neq \leq \geq; everything else is stripped once.
 */
export function normalizeGold(gold: string, dataset = ""): string {
  switch (goldRuleOf(dataset)) {
    case "math":
      return stripString(finishCandidate(gold, dataset));
    case "minerva":
      return finishCandidate(gold, dataset)
        .replaceAll("\\neq", "\\ne").replaceAll("\\leq", "\\le").replaceAll("\\geq", "\\ge");
    case "plain":
      return stripString(gold);
  }
}
