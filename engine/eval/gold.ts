/** Gold answers normalised as the harness's parse_ground_truth leaves them, per dataset. */
import { goldRuleOf } from "../../datasets/mod.ts";
import { finishCandidate } from "./extract.ts";
import { stripString } from "./normalize.ts";

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
