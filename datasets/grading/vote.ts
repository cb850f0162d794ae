/**
 * The per-question rules behind pass@k and maj@k, the one implementation that metrics.json,
 * `rast eval`, `rast run` and the TUI's live panel all call:
 * - pass@k: the unbiased estimator 1 − C(n−c, k)/C(n, k), which is the expected value of the
 *   authors' pass@k (any correct answer in a random k-subset of the n samples);
 * - maj@k, rule "equivalence": a vote over the first k samples where every correct answer votes
 *   with the gold and close numbers vote together (ties to the group seen first);
 * - maj@k, rule "authors": math_eval_pred.py's vote (a Counter over exact answer strings in a
 *   random k-subset, the winner's answer chosen at random among its samples), as its exact
 *   expected value over every k-subset and every tie-break, so it is deterministic.
 */
import { parseDigits } from "./math_equal.ts";
import { isClose } from "./python_compat.ts";

/** What a vote needs of one graded sample. */
export interface Vote {
  /** The normalised extracted answer ("" when none was found). */
  extracted: string;
  correct: boolean;
}

/** Which maj@k a summary shows. */
export type MajRule = "equivalence" | "authors";

/** The maj@k rules by name, for option parsing. */
export const MAJ_RULES: readonly MajRule[] = ["equivalence", "authors"];

/** Unbiased pass@k for one question: 1 - C(n-c, k) / C(n, k), in the stable product form. */
export function passAtK(n: number, c: number, k: number): number {
  if (k > n) throw new RangeError(`pass@k needs k <= n, got k=${k} and n=${n}`);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/**
 * The equivalence vote: answers graded correct are all equivalent to the gold and vote together;
 * other answers group with numerically equal ones (rel. 1e-4) or else with identical normalised
 * forms (no answer is a group too). The largest group wins; ties go to the group seen first.
 * Returns the index of the winning group's first answer.
 */
export function majorityIndex(votes: readonly Vote[]): number {
  const groups: { key: string; value: number | null; count: number; first: number }[] = [];
  votes.forEach((v, i) => {
    const value = v.correct ? null : parseDigits(v.extracted);
    const key = v.correct ? "\u0000correct" : v.extracted;
    const group = groups.find((g) =>
      value !== null && g.value !== null ? isClose(value, g.value, 1e-4) : g.key === key
    );
    if (group) group.count++;
    else groups.push({ key, value, count: 1, first: i });
  });
  let best = groups[0];
  for (const g of groups) if (g.count > best.count) best = g;
  return best.first;
}

/** maj@k under `rule` for one question's samples (in sample order): 0 or 1, or an expectation. */
export function majAtK(votes: readonly Vote[], k: number, rule: MajRule): number {
  if (k < 1 || k > votes.length) {
    throw new RangeError(`maj@k needs 1 <= k <= n, got k=${k} and n=${votes.length}`);
  }
  if (rule === "authors") return authorsMajAtK(votes, k);
  const firstK = votes.slice(0, k);
  return firstK[majorityIndex(firstK)].correct ? 1 : 0;
}

/** C(n, r) as a float (exact up to 2^53, then within a rounding of it). */
function choose(n: number, r: number): number {
  if (r < 0 || r > n) return 0;
  let out = 1;
  for (let i = 1; i <= r; i++) out = out * (n - r + i) / i;
  return out;
}

/**
 * The authors' maj@k, exactly: Σ over answer groups G of P(G wins) · (correct share of G), where
 * G wins a uniform k-subset when its count there is the largest, shared ties split evenly (their
 * Counter keeps the first answer of a shuffled subset, so each tied group is equally likely).
 * P(G wins with m votes) sums, over the other groups' counts (each ≤ m, together k − m), the
 * ways to pick them, divided by 1 + the number of groups tied at m: a small dynamic programme.
 */
function authorsMajAtK(votes: readonly Vote[], k: number): number {
  const groups = new Map<string, { size: number; correct: number }>();
  for (const v of votes) {
    const g = groups.get(v.extracted) ?? { size: 0, correct: 0 };
    g.size++;
    if (v.correct) g.correct++;
    groups.set(v.extracted, g);
  }
  const sizes = [...groups.values()];
  const subsets = choose(votes.length, k);
  let expected = 0;
  sizes.forEach((target, t) => {
    if (target.correct === 0) return;
    const others = sizes.filter((_, i) => i !== t).map((g) => g.size);
    let wins = 0;
    for (let m = 1; m <= Math.min(target.size, k); m++) {
      // ways[total][ties]: ways to pick `total` samples from the groups so far, `ties` at m
      let ways = [[1]];
      for (const size of others) {
        const next: number[][] = [];
        ways.forEach((byTies, total) =>
          byTies.forEach((w, ties) => {
            if (w === 0) return;
            for (let x = 0; x <= Math.min(size, m, k - m - total); x++) {
              const row = next[total + x] ??= [];
              const tie = ties + (x === m ? 1 : 0);
              row[tie] = (row[tie] ?? 0) + w * choose(size, x);
            }
          })
        );
        ways = next;
      }
      const rest = ways[k - m] ?? [];
      let share = 0;
      rest.forEach((w, ties) => share += (w ?? 0) / (1 + ties));
      wins += choose(target.size, m) * share;
    }
    expected += (wins / subsets) * (target.correct / target.size);
  });
  return expected;
}
