/**
 * Running accuracy over graded samples: mean accuracy, pass@k (the unbiased estimator of Chen et
 * al. 2021) and maj@k (majority vote over the extracted answers of the first k samples).
 * Pure functions; the reducer keeps the verdicts, the panels and the batch reporter call these.
 */

/** The grade of one finished sample, fed by the app once its answer has been checked. */
export interface Verdict {
  request: number;
  sample: number;
  correct: boolean;
  /** The extracted answer as the grader normalised it (maj@k compares these strings exactly); null when none was found. */
  extracted: string | null;
}

/** Verdicts by request, then by sample index. */
export type VerdictTable = ReadonlyMap<number, ReadonlyMap<number, Verdict>>;

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

/** Unbiased pass@k for one problem with n samples of which c are correct: 1 − C(n−c, k) / C(n, k). */
export function passAtKEstimate(n: number, c: number, k: number): number {
  if (k > n) throw new RangeError(`pass@k needs k <= n, got k=${k} and n=${n}`);
  if (n - c < k) return 1;
  // Product form: avoids the huge binomials of C(n, k) for n = 32 and beyond.
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

/**
 * Majority vote over the verdicts given (in sample order), as the authors' Counter over the
 * extracted answers: the most frequent answer wins (no answer, null, is a group like any other),
 * ties go to the answer seen first; the vote is correct when that answer's first sample is.
 */
export function majorityCorrect(verdicts: readonly Verdict[]): boolean {
  const votes = new Map<string | null, { count: number; first: Verdict }>();
  for (const v of verdicts) {
    const seen = votes.get(v.extracted);
    if (seen) seen.count++;
    else votes.set(v.extracted, { count: 1, first: v });
  }
  let best: { count: number; first: Verdict } | undefined;
  for (const entry of votes.values()) if (!best || entry.count > best.count) best = entry;
  return best?.first.correct ?? false;
}

/** Powers of two up to n, plus n itself: the ks reported by default (1, 2, 4, 8, 16, 32 for n = 32). */
export function defaultKs(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= n; k *= 2) ks.push(k);
  if (n >= 1 && ks[ks.length - 1] !== n) ks.push(n);
  return ks;
}

/** Accuracy so far; ks default to defaultKs(most samples graded for one request). */
export function summarizeAccuracy(table: VerdictTable, ks?: readonly number[]): AccuracySummary {
  let graded = 0;
  let correct = 0;
  let mostSamples = 0;
  const perRequest: Verdict[][] = [];
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
      passSum += passAtKEstimate(verdicts.length, c, k);
      if (majorityCorrect(verdicts.slice(0, k))) majSum++;
    }
    if (problems === 0) continue;
    passAtK.push({ k, value: passSum / problems, problems });
    majAtK.push({ k, value: majSum / problems, problems });
  }
  return { graded, correct, mean: graded > 0 ? correct / graded : undefined, passAtK, majAtK };
}
