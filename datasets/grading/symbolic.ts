/**
 * Symbolic equality, in the shape of the harness's `symbolic_equal`: parse both answers (Python
 * expression first, as sympy's parse_expr, then LaTeX, where the harness used latex2sympy and we
 * use @cortex-js/compute-engine; the raw string when both fail), then accept when they are
 * (1) structurally the same, (2) equal by simplify(a - b) = 0 or at several sample points of
 * their free variables (sympy's `equals` also tests numerically), (3) relations with |lhs - rhs|
 * equal, (4) constants within rel. 1e-4 numerically, (5) numeric matrices equal to 3 decimals.
 * It may run for long on hostile input: call it where it can be stopped (grade_worker.ts).
 */
import { ComputeEngine, type Expression, isFunction, isNumber } from "@cortex-js/compute-engine";
import type { SymbolicEqual } from "./math_equal.ts";
import { isClose } from "./python_compat.ts";
import { parsePython, pyKey, pyToJson, type PyValue, TooExpensiveError } from "./py_expr.ts";
import { checkExactSize } from "./exact_size.ts";
import { parseSympyLatex, SympyLatexError } from "./sympy_latex.ts";

type Parsed =
  | { kind: "raw"; text: string }
  | { kind: "ce"; e: Expression }
  | { kind: "seq"; seq: "tuple" | "list" | "set"; items: Parsed[] }
  | { kind: "opaque"; repr: string };

const RELATIONS = ["Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"];
/** Sample values for the free variables (negative ones too: sqrt(x^2) is not x). */
const SAMPLE_POINTS = [0.5377, -1.3077, 2.1842, -0.4336, 1.7254];

function fromPython(ce: ComputeEngine, v: PyValue): Parsed {
  if (v.k === "seq") {
    return {
      kind: "seq",
      seq: v.kind,
      items: v.items.map((i) => fromPython(ce, i)),
    };
  }
  if (v.k === "opaque") return { kind: "opaque", repr: v.repr };
  const json = pyToJson(v);
  checkExactSize(json);
  // deno-lint-ignore no-explicit-any
  const e = ce.box(json as any);
  return e.isValid ? { kind: "ce", e } : { kind: "opaque", repr: pyKey(v) };
}

/**
 * The harness's `_parse`: sympy's parse_latex, then parse_expr, then latex2sympy (here the
 * engine's LaTeX parser), each on "\\\\"->"\\" first, else the text.
 */
function parseAnswer(ce: ComputeEngine, text: string): Parsed {
  const variants = [text.replaceAll("\\\\", "\\"), text];
  for (const v of variants) {
    try {
      const json = parseSympyLatex(v);
      checkExactSize(json);
      // deno-lint-ignore no-explicit-any
      const e = ce.box(json as any);
      if (e.isValid) return { kind: "ce", e };
    } catch (err) {
      if (!(err instanceof SympyLatexError)) throw err;
    }
  }
  for (const v of variants) {
    try {
      return fromPython(ce, parsePython(v));
    } catch (err) {
      if (err instanceof TooExpensiveError) throw err;
    }
  }
  for (const v of variants) {
    try {
      const e = parseLatex(ce, latex2sympyText(v));
      if (e.isValid && !e.isSame(ce.box("Nothing"))) return { kind: "ce", e };
    } catch (err) {
      if (err instanceof TooExpensiveError) throw err;
      // as the harness: try the next parser
    }
  }
  return { kind: "raw", text };
}

/** latex2sympy's clean-up of its input before parsing. */
function latex2sympyText(latex: string): string {
  return latex.replaceAll("\\dfrac", "\\frac").replaceAll("\\tfrac", "\\frac")
    .replaceAll("\\displaystyle", " ").replaceAll("\\qquad", " ").replaceAll("\\quad", " ")
    .replaceAll("~", " ").replaceAll("\\,", " ").replaceAll("$", " ")
    .replace(/(?<![\d.])0+(?=[1-9])/gu, ""); // its NUMBER reads 025 as 25
}

/** MathJSON as the engine's non-canonical parse returns it. */
type RawJson = unknown;

/**
 * The engine reads `2\frac{1}{2}` as the mixed number 5/2; latex2sympy reads a product (1).
 * The engine reads `\mathrm{m}` as a unit; latex2sympy reads a symbol of its own, not `m` (so
 * `0\mathrm{~m}` is 0). Parse without canonicalisation, turn number-times-fraction
 * juxtapositions into products and units into such symbols, box.
 */
function parseLatex(ce: ComputeEngine, latex: string): Expression {
  const isNumberJson = (j: RawJson) =>
    typeof j === "number" || (typeof j === "object" && j !== null && "num" in j);
  const fix = (j: RawJson): RawJson => {
    if (!Array.isArray(j)) return j;
    if (j[0] === "__unit__" && j.length === 2 && typeof j[1] === "string") return `mathrm_${j[1]}`;
    const args = j.slice(1).map(fix);
    if (
      j[0] === "InvisibleOperator" && args.length === 2 && isNumberJson(args[0]) &&
      Array.isArray(args[1]) && args[1][0] === "Divide"
    ) {
      return ["Multiply", ...args];
    }
    return [j[0], ...args];
  };
  const json = fix(ce.parse(latex, { form: "raw" }).json);
  checkExactSize(json);
  // deno-lint-ignore no-explicit-any
  return ce.box(json as any);
}

function numbersEqual(a: Expression, b: Expression): boolean {
  return isNumber(a) && isNumber(b) && a.re === b.re && a.im === b.im;
}

/** Python's `str(a) == str(b) or a == b` on the parsed objects. */
function sameObject(a: Parsed, b: Parsed): boolean {
  if (a.kind === "raw" || b.kind === "raw") {
    return a.kind === "raw" && b.kind === "raw" && a.text === b.text;
  }
  if (a.kind === "opaque" || b.kind === "opaque") {
    return a.kind === "opaque" && b.kind === "opaque" && a.repr === b.repr;
  }
  if (a.kind === "ce" && b.kind === "ce") return a.e.isSame(b.e) || numbersEqual(a.e, b.e);
  if (a.kind !== "seq" || b.kind !== "seq") return false;
  if (a.seq !== b.seq || a.items.length !== b.items.length) return false;
  if (a.seq !== "set") return a.items.every((item, i) => sameObject(item, b.items[i]));
  return a.items.every((item) => b.items.some((other) => sameObject(item, other))) &&
    b.items.every((item) => a.items.some((other) => sameObject(item, other)));
}

function isPlainExpression(e: Expression): boolean {
  const op = e.operator;
  return !RELATIONS.includes(op) &&
    !["Matrix", "List", "Tuple", "Set", "Interval", "Union", "Element", "Sequence"].includes(op);
}

function complexValue(e: Expression): [number, number] | null {
  const n = e.N();
  const re = n.re;
  const im = n.im;
  return Number.isNaN(re) || Number.isNaN(im) ? null : [re, im];
}

/** sympy's `equals` falls back to numeric testing; here: agree at every sample point. */
function agreeAtSamplePoints(ce: ComputeEngine, a: Expression, b: Expression): boolean {
  const names = [...new Set([...a.unknowns, ...b.unknowns])];
  if (names.length === 0 || names.length > 8) return false;
  const diff = ce.box(["Subtract", a, b]).simplify();
  let compared = 0;
  for (let p = 0; p < SAMPLE_POINTS.length; p++) {
    checkDeadline(ce);
    const point: Record<string, Expression> = {};
    names.forEach((name, j) => {
      point[name] = ce.number(SAMPLE_POINTS[(p + j) % SAMPLE_POINTS.length] * (1 + 0.173 * j));
    });
    const va = complexValue(a.subs(point));
    const vb = complexValue(b.subs(point));
    if (va === null && vb === null) continue;
    if (va === null || vb === null) return false;
    if (!Number.isFinite(va[0] + va[1]) || !Number.isFinite(vb[0] + vb[1])) continue;
    // the difference itself, at the engine's (bignum) precision: 1e10 + x is not 1e10
    const d = complexValue(diff.subs(point)) ?? [Infinity, 0];
    const scale = Math.max(1, Math.hypot(...va), Math.hypot(...vb));
    if (Math.hypot(...d) > 1e-15 * scale) return false;
    compared++;
  }
  return compared >= 3;
}

/**
 * `a.equals(b) or simplify(a - b) == 0` for plain expressions. (The engine's own
 * isIdenticallyEqual is not used: it calls b*delta(t)+1 and (1-3e^{-2t})u(t) identical.)
 */
function provablyEqual(ce: ComputeEngine, a: Expression, b: Expression): boolean {
  if (!isPlainExpression(a) || !isPlainExpression(b)) return false;
  try {
    if (ce.box(["Subtract", a, b]).simplify().isSame(0)) return true;
  } catch (err) {
    rethrowLimit(err); // otherwise undecided
  }
  checkDeadline(ce);
  try {
    return agreeAtSamplePoints(ce, a, b);
  } catch (err) {
    rethrowLimit(err);
    return false;
  }
}

/** Relations (x<3, 2x=6): |lhs - rhs| equal, whatever the relation (as the harness). */
function relationsEqual(ce: ComputeEngine, a: Expression, b: Expression): boolean {
  if (!RELATIONS.includes(a.operator) || !RELATIONS.includes(b.operator)) return false;
  if (!isFunction(a) || !isFunction(b) || a.nops !== 2 || b.nops !== 2) return false;
  const da = ce.box(["Subtract", a.op1, a.op2]);
  const db = ce.box(["Subtract", b.op1, b.op2]);
  return provablyEqual(ce, da, db) || provablyEqual(ce, da, ce.box(["Negate", db]));
}

function numericallyEqual(a: Expression, b: Expression): boolean {
  if (a.unknowns.length > 0 || b.unknowns.length > 0) return false;
  const va = complexValue(a);
  const vb = complexValue(b);
  if (va === null || vb === null || va[1] !== 0 || vb[1] !== 0) return false;
  return isClose(va[0], vb[0], 1e-4);
}

function matrixCells(e: Expression): number[][] | null {
  if (e.operator !== "Matrix" || !isFunction(e) || !isFunction(e.op1)) return null;
  const rows = e.op1.ops;
  const cells = rows.map((row) =>
    (isFunction(row) ? row.ops : []).map((cell) => complexValue(cell))
  );
  if (cells.some((row) => row.some((c) => c === null || c[1] !== 0))) return null;
  return cells.map((row) => row.map((c) => Math.round(c![0] * 1000) / 1000));
}

function matricesRoundEqual(a: Expression, b: Expression): boolean {
  const ma = matrixCells(a);
  const mb = matrixCells(b);
  if (!ma || !mb || ma.length !== mb.length) return false;
  return ma.every((row, i) => row.length === mb[i].length && row.every((v, j) => v === mb[i][j]));
}

/** The compute engine's deadline error (checked by name: it is not exported as a class). */
function isCancellation(err: unknown): boolean {
  return err instanceof Error && err.name === "CancellationError";
}

/** Rethrows what ends a comparison (a cost bound, the time limit); other errors mean "no". */
function rethrowLimit(err: unknown): void {
  if (err instanceof TooExpensiveError) throw err;
  if (isCancellation(err)) throw new TooExpensiveError("past the time limit");
}

/** Throws when the engine's time limit (withTimeLimit) has passed: no next stage is started. */
function checkDeadline(ce: ComputeEngine): void {
  const deadline = ce._deadline;
  if (deadline !== undefined && Date.now() > deadline) {
    throw new TooExpensiveError("past the time limit");
  }
}

function attempt(ce: ComputeEngine, step: () => boolean): boolean {
  checkDeadline(ce);
  try {
    return step();
  } catch (err) {
    rethrowLimit(err);
    return false;
  }
}

/** The harness's `symbolic_equal(a, b)` on one engine. */
export function symbolicEqual(ce: ComputeEngine, a: string, b: string): boolean {
  const pa = parseAnswer(ce, a);
  const pb = parseAnswer(ce, b);
  if (attempt(ce, () => sameObject(pa, pb))) return true;
  if (pa.kind !== "ce" || pb.kind !== "ce") return false;
  const ea = pa.e;
  const eb = pb.e;
  return attempt(ce, () => provablyEqual(ce, ea, eb)) ||
    attempt(ce, () => relationsEqual(ce, ea, eb)) ||
    attempt(ce, () => numericallyEqual(ea, eb)) ||
    attempt(ce, () => matricesRoundEqual(ea, eb));
}

/**
 * A SymbolicEqual over its own engine; each call gets a fresh scope for its symbols. With
 * `remainingMs`, each call runs under the engine's own deadline (withTimeLimit) and throws
 * TooExpensiveError when it passes: the worker then answers "timeout" itself, where a
 * terminate() from outside would leave a busy worker computing (Deno 2.9 does not stop a worker
 * stuck in a synchronous loop; denoland/deno#35657).
 */
export function createSymbolicEqual(
  ce: ComputeEngine = new ComputeEngine(),
  remainingMs?: () => number,
): SymbolicEqual {
  return (a, b) => {
    ce.pushScope();
    try {
      if (!remainingMs) return symbolicEqual(ce, a, b);
      const ms = remainingMs();
      if (ms <= 0) throw new TooExpensiveError("past the time limit");
      return ce.withTimeLimit(ms, () => symbolicEqual(ce, a, b));
    } catch (err) {
      if (isCancellation(err)) throw new TooExpensiveError("past the time limit");
      throw err;
    } finally {
      ce.popScope();
    }
  };
}
