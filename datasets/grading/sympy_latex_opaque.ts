/**
 * The parts of sympy's LaTeX grammar we keep opaque (integrals, sums, products, limits,
 * evaluation bars): read to know where they end, their text becomes a symbol.
 */
import { Fail, type RuleParser as Parser } from "./sympy_latex_grammar.ts";

/** eval_at: `|^{..}_{..}` (kept opaque). */
export function evalAt(p: Parser): void {
  p.expect("BAR");
  const bound = (type: string) => {
    p.expect(type);
    p.expect("L_BRACE");
    if (p.attempt(() => (p.expr(), p.expect("R_BRACE"))) === undefined) {
      equality(p);
      p.expect("R_BRACE");
    }
  };
  if (p.peek() === "CARET") {
    bound("CARET");
    if (p.peek() === "UNDERSCORE") p.attempt(() => bound("UNDERSCORE"));
  } else bound("UNDERSCORE");
}

/** equality: expr = expr. */
export function equality(p: Parser): void {
  p.expr();
  p.expect("EQUAL");
  p.expr();
}

/** `\int` with optional bounds, a body and its differential. */
export function integral(p: Parser): void {
  p.next();
  p.attempt(() => {
    if (p.peek() === "UNDERSCORE") (p.subexpr(), p.supexpr());
    else (p.supexpr(), p.subexpr());
  });
  const body = p.attempt(() => p.expr());
  if (p.peek() === "DIFFERENTIAL") p.next();
  else if (body === undefined) throw new Fail();
}

/** `\sum` and `\prod`: bounds, then an mp. */
export function bigOperator(p: Parser): void {
  p.next();
  const subeq = () => {
    p.expect("UNDERSCORE");
    p.expect("L_BRACE");
    equality(p);
    p.expect("R_BRACE");
  };
  if (p.peek() === "UNDERSCORE") (subeq(), p.supexpr());
  else (p.supexpr(), subeq());
  p.mp(false);
}

/** `\lim_{x \to a^{+}}` then an mp. */
export function limit(p: Parser): void {
  p.next();
  p.expect("UNDERSCORE");
  p.expect("L_BRACE");
  if (p.peek() !== "LETTER") p.expect("SYMBOL");
  else p.next();
  p.expect("LIM_APPROACH_SYM");
  p.expr();
  if (p.peek() === "CARET") {
    p.next();
    if (p.peek() === "L_BRACE") {
      p.next();
      if (p.peek() !== "ADD") p.expect("SUB");
      else p.next();
      p.expect("R_BRACE");
    } else if (p.peek() !== "ADD") p.expect("SUB");
    else p.next();
  }
  p.expect("R_BRACE");
  p.mp(false);
}
