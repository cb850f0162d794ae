/** Names that sympy's parse_expr binds (py_expr.ts): constants, functions, keywords. */

/** An expression as MathJSON (numbers, symbols, `{num}` big numbers, `[head, ...args]`). */
export type Json = number | string | { num: string } | Json[];

/** sympy constants by name, as MathJSON. */
export const CONSTANTS: Record<string, Json> = {
  E: "ExponentialE",
  I: "ImaginaryUnit",
  pi: "Pi",
  oo: "PositiveInfinity",
  zoo: "ComplexInfinity",
  nan: "NaN",
  EulerGamma: "EulerGamma",
  GoldenRatio: "GoldenRatio",
};
/** sympy functions by name, as MathJSON heads. */
export const FUNCTIONS: Record<string, string> = Object.fromEntries(
  ("sqrt:Sqrt exp:Exp log:Ln ln:Ln sin:Sin cos:Cos tan:Tan cot:Cot sec:Sec csc:Csc asin:Arcsin " +
    "acos:Arccos atan:Arctan sinh:Sinh cosh:Cosh tanh:Tanh Abs:Abs abs:Abs factorial:Factorial " +
    "binomial:Binomial floor:Floor ceiling:Ceil gamma:Gamma Max:Max Min:Min max:Max min:Min " +
    "pow:Power root:Root").split(" ").map((pair) => pair.split(":")),
);
/** Names bound in `from sympy import *` (or builtins) that are not numbers or functions we model. */
export const OPAQUE_NAMES = new Set([
  "N",
  "O",
  "Q",
  "S",
  "beta",
  "zeta",
  "Symbol",
  "Integer",
  "sum",
]);
const KEYWORD_LIST = "and as assert async await break class continue def del elif else except " +
  "finally for from global if import in is lambda nonlocal not or pass raise return try while " +
  "with yield";
/** Python keywords (never names). */
export const KEYWORDS = new Set(KEYWORD_LIST.split(" "));
