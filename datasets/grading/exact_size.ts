/**
 * A bound on how large exact numbers in a MathJSON expression get, checked before the compute
 * engine sees it. Exact bigint arithmetic (9^(9^(9^9)) has about 1.2e9 bits) runs in native code
 * that a worker's terminate() cannot interrupt, so a stuck comparison would keep a core busy for
 * the rest of the run; sympy would not finish such a comparison either, and the harness counts
 * it as a timeout, as rast does here at once. The limits are the Python parser's (py_expr.ts).
 */
import { MAX_EXACT_BITS, MAX_FACTORIAL, TooExpensiveError } from "./py_expr.ts";

/** log2 of an upper bound on |value| of a numeric subtree, or null when it holds symbols. */
function log2Bound(j: unknown): number | null {
  if (typeof j === "number") return Number.isFinite(j) ? Math.log2(Math.max(1, Math.abs(j))) : 0;
  if (typeof j === "object" && j !== null && !Array.isArray(j) && "num" in j) {
    const text = String((j as { num: unknown }).num).replace(/^[-+]/, "");
    const value = Number(text);
    if (Number.isFinite(value)) return Math.log2(Math.max(1, value));
    const [mantissa, exponent] = text.split(/[eE]/);
    const digits = mantissa.replace(".", "").replace(/^0+/, "").length;
    return Math.max(0, (digits + Number(exponent ?? 0)) * Math.log2(10));
  }
  if (!Array.isArray(j) || typeof j[0] !== "string") return null;
  const args = j.slice(1).map(log2Bound);
  if (args.some((a) => a === null)) return null;
  const logs = args as number[];
  switch (j[0]) {
    case "Power": {
      if (logs.length !== 2) return null;
      const [base, exponent] = logs;
      if (base === 0) return 0; // 0 and ±1 stay small whatever the power
      if (exponent > 40) throw new TooExpensiveError("exact power too large");
      const bits = base * 2 ** exponent;
      if (bits > MAX_EXACT_BITS) throw new TooExpensiveError("exact power too large");
      return bits;
    }
    case "Factorial":
      if (logs[0] > Math.log2(MAX_FACTORIAL)) throw new TooExpensiveError("factorial too large");
      return logs[0] * 2 ** logs[0];
    case "Add":
    case "Subtract":
      return Math.max(0, ...logs) + Math.log2(Math.max(1, logs.length));
    default: // products, quotients, negation, roots, delimiters: at most the sum of the parts
      return logs.reduce((a, b) => a + b, 0);
  }
}

/**
 * Throws TooExpensiveError when an exact number in `json` would exceed the bounds (every
 * subtree is visited: a huge power inside a symbolic expression counts too).
 */
export function checkExactSize(json: unknown): void {
  log2Bound(json);
}
