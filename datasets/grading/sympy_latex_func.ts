/**
 * The function rules of sympy's LaTeX grammar: `\\sin`-style functions with optional scripts
 * and an argument with or without parentheses, calls like `f(x, y)`, `\\sqrt`, `\\overline`,
 * and the opaque big operators.
 */
import { Fail, type LatexNode, type RuleParser as Parser } from "./sympy_latex_grammar.ts";
import { bigOperator, integral, limit } from "./sympy_latex_opaque.ts";

/** func: the alternatives in the grammar's order. */
export function func(p: Parser): LatexNode {
  const from = p.pos;
  const t = p.peek();
  if (t === "FUNC_NORMAL") {
    const name = p.next().text.slice(1);
    let sub: LatexNode | undefined, sup: LatexNode | undefined;
    const scripts = () => {
      if (sub === undefined && p.peek() === "UNDERSCORE") {
        sub = p.subexpr();
      }
      if (sup === undefined && p.peek() === "CARET") sup = p.supexpr();
    };
    scripts();
    scripts();
    const arg = p.attempt(() => {
      p.expect("L_PAREN");
      const e = funcArg(p);
      p.expect("R_PAREN");
      return e;
    }) ?? p.mp(true);
    return p.node(from, { k: "normalFunc", name, sub, sup, arg });
  }
  if (t === "LETTER" || t === "SYMBOL") {
    const head = p.next().text;
    const tail = p.nameTail();
    p.expect("L_PAREN");
    const callArgs = args(p);
    p.expect("R_PAREN");
    return p.node(from, {
      k: "call",
      name: t === "SYMBOL" ? head.slice(1) : head,
      ...tail,
      args: callArgs,
    });
  }
  if (t === "FUNC_SQRT") {
    p.next();
    const root = p.peek() === "L_BRACKET"
      ? p.attempt(() => {
        p.next();
        const r = p.expr();
        p.expect("R_BRACKET");
        return r;
      })
      : undefined;
    return p.node(from, { k: "sqrt", root, base: p.braced() });
  }
  if (t === "FUNC_OVERLINE") {
    p.next();
    return p.node(from, { k: "conjugate", e: p.braced() });
  }
  if (t === "FUNC_INT") integral(p);
  else if (t === "FUNC_SUM" || t === "FUNC_PROD") bigOperator(p);
  else if (t === "FUNC_LIM") limit(p);
  else throw new Fail();
  return p.node(from, { k: "opaque" });
}
/**
 * args: `expr ',' args | expr`. The first alternative wins where it fits, and then a number
 * may not swallow the comma: `f(1,1006)` has two arguments.
 */
export function args(p: Parser): LatexNode[] {
  const start = p.pos;
  const whole = p.expr();
  if (p.peek() === "," || !p.ts.tokens.slice(start, p.pos).some((t) => t.type === ",")) {
    return p.peek() === "," ? (p.next(), [whole, ...args(p)]) : [whole];
  }
  const end = p.pos;
  p.pos = start;
  p.commaGroups = false;
  const first = p.attempt(() => p.expr());
  p.commaGroups = true;
  if (first !== undefined && p.peek() === ",") {
    const rest = p.attempt(() => (p.next(), args(p)));
    if (rest !== undefined && p.peek() === "R_PAREN") return [first, ...rest];
  }
  p.pos = end;
  return [whole];
}
/** func_arg: expr (',' expr)* — the function reads the first. */
export function funcArg(p: Parser): LatexNode {
  const first = p.expr();
  while (p.peek() === ",") {
    p.next();
    p.expr();
  }
  return first;
}
