/**
 * Running accuracy over graded samples: mean accuracy, pass@k and maj@k by the rules of
 * datasets/grading/vote.ts (the same functions metrics.json uses, so the panel and the file agree on
 * the same verdicts). Pure functions; the reducer keeps the verdicts, the panels and the batch
 * reporter call these.
 */
import * as vote from "../../datasets/grading/vote.ts";
import type { Verdict } from "../../datasets/grading/mod.ts";

export type { MajRule } from "../../datasets/grading/vote.ts";
type MajRule = vote.MajRule;

/**
 * The grade of one finished sample, fed by the app once its answer has been checked: the
 * grader's verdict (its `correct`), tagged with the sample, and the extracted answer as the
 * grader normalised it (null when none was found).
 */
export type SampleVerdict = Pick<Verdict, "correct"> & {
  request: number;
  sample: number;
  extracted: string | null;
};

/** Verdicts by request, then by sample index. */
export type VerdictTable = ReadonlyMap<number, ReadonlyMap<number, SampleVerdict>>;

/** A metric at one k, averaged over the `problems` requests that have at least k graded samples. */
export interface AtK {
  k: number;
  value: number;
  problems: number;
}

/** Everything the accuracy panel and the progress line show. */
export interface AccuracySummary {
  graded: number;
  correct: number;
  /** correct / graded; undefined before the first verdict. */
  mean?: number;
  passAtK: AtK[];
  majAtK: AtK[];
}

/** Powers of two up to n, plus n itself: the ks reported by default (1, 2, 4, 8, 16, 32 for n = 32). */
export function defaultKs(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= n; k *= 2) ks.push(k);
  if (n >= 1 && ks[ks.length - 1] !== n) ks.push(n);
  return ks;
}

/**
 * Accuracy so far; ks default to defaultKs(most samples graded for one request). At each k only
 * requests with at least k graded samples count; maj@k follows `majRule` (default equivalence).
 */
export function summarizeAccuracy(
  table: VerdictTable,
  ks?: readonly number[],
  majRule: MajRule = "equivalence",
): AccuracySummary {
  let graded = 0;
  let correct = 0;
  let mostSamples = 0;
  const perRequest: SampleVerdict[][] = [];
  for (const bySample of table.values()) {
    const ordered = [...bySample.values()].sort((a, b) => a.sample - b.sample);
    perRequest.push(ordered);
    graded += ordered.length;
    for (const v of ordered) if (v.correct) correct++;
    mostSamples = Math.max(mostSamples, ordered.length);
  }
  const passAtK: AtK[] = [];
  const majAtK: AtK[] = [];
  for (const k of ks ?? defaultKs(mostSamples)) {
    let passSum = 0;
    let majSum = 0;
    let problems = 0;
    for (const verdicts of perRequest) {
      if (verdicts.length < k) continue;
      problems++;
      const c = verdicts.filter((v) => v.correct).length;
      passSum += vote.passAtK(verdicts.length, c, k);
      majSum += vote.majAtK(
        verdicts.map((v) => ({ extracted: v.extracted ?? "", correct: v.correct })),
        k,
        majRule,
      );
    }
    if (problems === 0) continue;
    passAtK.push({ k, value: passSum / problems, problems });
    majAtK.push({ k, value: majSum / problems, problems });
  }
  return { graded, correct, mean: graded > 0 ? correct / graded : undefined, passAtK, majAtK };
}
