/**
 * Metrics over n samples per question: mean accuracy over all samples, run-0 accuracy (what the
 * authors' "average" mode printed), unbiased pass@k, maj@k under both rules (vote.ts),
 * per-question counts and breakdowns by level / subject / type / subfield. Accuracies are
 * fractions in [0, 1].
 */
import { UserError } from "../../engine/errors.ts";
import type { Verdict } from "./grader.ts";
import { pyStr } from "./python_compat.ts";
import { majAtK, majorityIndex, type MajRule, passAtK } from "./vote.ts";

export { majorityIndex, type MajRule, passAtK } from "./vote.ts";

/** One benchmark question. `fields` is the raw row (level, subject, type, ...). */
export interface DatasetRow {
  index: number;
  question: string;
  /** The raw gold answer as the row gives it (normalised at grading time). */
  gold: string;
  fields: Record<string, unknown>;
}

/** A loaded benchmark: `name` selects the dataset-specific grading rules. */
export interface Dataset {
  name: string;
  rows: DatasetRow[];
}

/** One question's results. */
export interface QuestionMetrics {
  index: number;
  /** Normalised gold answer. */
  gold: string;
  /** Samples graded correct, out of `samples`. */
  correct: number;
  samples: number;
  /** The majority answer over all samples (see majorityIndex) and whether it is correct. */
  majorityAnswer: string;
  majorityCorrect: boolean;
}

/** Accuracy of a group of questions. */
export interface GroupMetrics {
  questions: number;
  meanAccuracy: number;
  run0Accuracy: number;
}

/** Evaluation results; JSON-serialisable. */
export interface Metrics {
  dataset: string;
  questions: number;
  /** Samples per question (n). */
  samples: number;
  meanAccuracy: number;
  run0Accuracy: number;
  /** k (as a string key) -> mean over questions of 1 - C(n-c, k) / C(n, k). */
  passAtK: Record<string, number>;
  /** k -> fraction of questions whose equivalence vote over the first k samples is correct. */
  majAtK: Record<string, number>;
  /** k -> the authors' maj@k (exact strings, random k-subsets and ties), its expected value. */
  majAtKAuthors: Record<string, number>;
  /** How each figure is defined, for readers of metrics.json. */
  definitions: Record<"passAtK" | "majAtK" | "majAtKAuthors", string>;
  timeouts: number;
  /** Samples whose grading failed (counted incorrect); each is in verdicts.jsonl with its message. */
  errors: number;
  /** Samples with no extractable answer. */
  emptyAnswers: number;
  perQuestion: QuestionMetrics[];
  /** field (level, subject, type, subfield) -> value -> group accuracy. */
  breakdowns: Record<string, Record<string, GroupMetrics>>;
}

/** Options of computeMetrics. */
export interface MetricsOptions {
  /** Largest k for pass@k and maj@k (default n); reported k are 1, 2, 4, ... and k itself. */
  k?: number;
}

const BREAKDOWN_FIELDS = ["level", "subject", "type", "subfield"];

/** The k values reported: powers of two up to kMax, and kMax itself. */
export function kValues(kMax: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= kMax; k *= 2) ks.push(k);
  if (ks[ks.length - 1] !== kMax) ks.push(kMax);
  return ks;
}

/** What metrics.json says each figure is. */
export const DEFINITIONS: Metrics["definitions"] = {
  passAtK: "mean over questions of 1 - C(n-c, k)/C(n, k), the unbiased estimator; it is the " +
    "expected value of the authors' pass@k (a correct answer among k of the n samples drawn at random)",
  majAtK: "equivalence vote over the first k samples: correct answers vote together, numbers " +
    "within 1e-4 vote together, else exact normalised answers; ties go to the earliest group",
  majAtKAuthors: "the authors' math_eval_pred.py vote: exact normalised answers over a random " +
    "k-subset of the n samples, ties broken at random; reported as its exact expected value",
};

const mean = (xs: number[]) => xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;

/** Metrics of `verdicts[sample][row]` against `dataset`. */
export function computeMetrics(
  dataset: Dataset,
  verdicts: Verdict[][],
  opts: MetricsOptions = {},
): Metrics {
  const n = verdicts.length;
  const rows = dataset.rows;
  if (n === 0) throw new UserError("No samples to evaluate; give at least one prediction run");
  verdicts.forEach((run, s) => {
    if (run.length !== rows.length) {
      throw new UserError(
        `Sample ${s} has ${run.length} verdicts but dataset "${dataset.name}" has ${rows.length} rows`,
      );
    }
  });
  const kMax = opts.k ?? n;
  if (!Number.isInteger(kMax) || kMax < 1 || kMax > n) {
    throw new UserError(
      `k ${kMax} is out of range; use a whole number from 1 to ${n} (the samples)`,
    );
  }
  const ks = kValues(kMax);
  const perQuestion: QuestionMetrics[] = rows.map((row, r) => {
    const column = verdicts.map((run) => run[r]);
    const maj = majorityIndex(column);
    return {
      index: row.index,
      gold: column[0].gold,
      correct: column.filter((v) => v.correct).length,
      samples: n,
      majorityAnswer: column[maj].extracted,
      majorityCorrect: column[maj].correct,
    };
  });
  const passAt: Record<string, number> = {};
  const majAt: Record<MajRule, Record<string, number>> = { equivalence: {}, authors: {} };
  const columns = rows.map((_, r) => verdicts.map((run) => run[r]));
  for (const k of ks) {
    passAt[k] = mean(perQuestion.map((q) => passAtK(n, q.correct, k)));
    for (const rule of ["equivalence", "authors"] as const) {
      majAt[rule][k] = mean(columns.map((column) => majAtK(column, k, rule)));
    }
  }
  const all = verdicts.flat();
  return {
    dataset: dataset.name,
    questions: rows.length,
    samples: n,
    meanAccuracy: mean(perQuestion.map((q) => q.correct / n)),
    run0Accuracy: mean(verdicts[0].map((v) => v.correct ? 1 : 0)),
    passAtK: passAt,
    majAtK: majAt.equivalence,
    majAtKAuthors: majAt.authors,
    definitions: DEFINITIONS,
    timeouts: all.filter((v) => v.timeout).length,
    errors: all.filter((v) => v.error !== undefined).length,
    emptyAnswers: all.filter((v) => v.extracted === "").length,
    perQuestion,
    breakdowns: breakdowns(dataset, verdicts, perQuestion),
  };
}

function breakdowns(
  dataset: Dataset,
  verdicts: Verdict[][],
  perQuestion: QuestionMetrics[],
): Record<string, Record<string, GroupMetrics>> {
  const out: Record<string, Record<string, GroupMetrics>> = {};
  for (const field of BREAKDOWN_FIELDS) {
    const groups = new Map<string, number[]>();
    dataset.rows.forEach((row, r) => {
      const value = row.fields[field];
      if (value === undefined || value === null) return;
      const key = pyStr(value);
      groups.set(key, [...(groups.get(key) ?? []), r]);
    });
    if (groups.size === 0) continue;
    out[field] = {};
    for (const [key, members] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
      out[field][key] = {
        questions: members.length,
        meanAccuracy: mean(members.map((r) => perQuestion[r].correct / perQuestion[r].samples)),
        run0Accuracy: mean(members.map((r) => verdicts[0][r].correct ? 1 : 0)),
      };
    }
  }
  return out;
}

/**
 * A normal 95% interval for mean accuracy with the questions as units (the samples of one
 * question are not independent): mean ± 1.96 · s / √Q, s the sample standard deviation (Q − 1)
 * of the per-question accuracies; [mean, mean] for a single question.
 */
export function meanAccuracyCi95(perQuestion: readonly QuestionMetrics[]): [number, number] {
  const accuracies = perQuestion.map((q) => q.correct / q.samples);
  const q = accuracies.length;
  const m = mean(accuracies);
  if (q < 2) return [m, m];
  const variance = accuracies.reduce((s, a) => s + (a - m) ** 2, 0) / (q - 1);
  const half = 1.96 * Math.sqrt(variance / q);
  return [m - half, m + half];
}
