/**
 * sympy's `parse_latex` (the first parser the harness's symbolic_equal tries): our reading of
 * sympy's grammar (sympy_latex_parse.ts) converted to MathJSON as sympy's _parse_latex_antlr.py
 * converts the tree. Its leniency decides verdicts and is kept: it reads only the first relation
 * ("1,2" is 1), unknown commands are symbols (`\displaystyle` times 10), `\pi` and `e` are plain
 * symbols, `\log` is natural. Syntax errors throw SympyLatexError (the harness then tries
 * parse_expr). Derivatives, integrals, sums and limits become opaque symbols of their text.
 */
import type { Json } from "./py_names.ts";
import { type LatexNode, nodeText, parseLatexTree } from "./sympy_latex_parse.ts";
import { SympyLatexError, type Token } from "./sympy_latex_lex.ts";

export { SympyLatexError };

/** Symbol names as MathJSON symbols (plain identifiers kept, as py_expr keeps them). */
export function symbolJson(name: string): Json {
  // the engine reads the symbols e and i as its constants; sympy's are free symbols
  if (/^[A-Za-z][A-Za-z0-9]*$/u.test(name) && name !== "e" && name !== "i") return name;
  return "S_" + Array.from(name, (c) => c.codePointAt(0)!.toString(36)).join("_");
}

function hasSymbols(j: Json): boolean {
  if (typeof j === "string") return !/^[A-Z]/u.test(j) || j.length === 1;
  return Array.isArray(j) && j.slice(1).some(hasSymbols);
}

/** `\sin^{-1}` is asin (sympy checks the power against -1). */
const INVERSE: Record<string, string> = {
  sin: "Arcsin",
  cos: "Arccos",
  tan: "Arctan",
  csc: "Arccsc",
  sec: "Arcsec",
  cot: "Arccot",
  sinh: "Arsinh",
  cosh: "Arcosh",
  tanh: "Artanh",
};
const MINUS_ONE = JSON.stringify(["Negate", { num: "1" }]);
const HEAD: Record<string, string> = {
  sin: "Sin",
  cos: "Cos",
  tan: "Tan",
  csc: "Csc",
  sec: "Sec",
  cot: "Cot",
  sinh: "Sinh",
  cosh: "Cosh",
  tanh: "Tanh",
  arcsin: "Arcsin",
  arccos: "Arccos",
  arctan: "Arctan",
  arccsc: "Arccsc",
  arcsec: "Arcsec",
  arccot: "Arccot",
  arsinh: "Arsinh",
  arcosh: "Arcosh",
  artanh: "Artanh",
};

const RELATION_HEADS: Record<string, string> = {
  LT: "Less",
  LTE: "LessEqual",
  GT: "Greater",
  GTE: "GreaterEqual",
  EQUAL: "Equal",
  NEQ: "NotEqual",
};

const named = (name: string, sub?: string, quotes?: string) =>
  name + (sub === undefined ? "" : `_{${sub}}`) + (quotes ?? "");

/** Converts one parsed tree; `tokens` give the text of opaque constructs. */
class Converter {
  constructor(readonly tokens: Token[]) {}

  opaque(n: LatexNode): Json {
    return symbolJson(`latex:${nodeText(this.tokens, n)}`);
  }

  convert(n: LatexNode): Json {
    const c = (m: LatexNode) => this.convert(m);
    switch (n.k) {
      case "rel":
        return [RELATION_HEADS[n.op], c(n.l), c(n.r)];
      case "add":
        return ["Add", c(n.l), c(n.r)];
      case "sub":
        return ["Add", c(n.l), ["Negate", c(n.r)]];
      case "mul":
        return ["Multiply", c(n.l), c(n.r)];
      case "div":
        return ["Divide", c(n.l), c(n.r)];
      case "sign":
        return n.negate ? ["Negate", c(n.arg)] : c(n.arg);
      case "juxt":
        return this.juxtaposed(n.items.map(c));
      case "postfix": {
        let e = c(n.base);
        for (const op of n.ops) e = op === "bang" ? ["Factorial", e] : this.opaque(n);
        return e;
      }
      case "pow":
        return ["Power", c(n.base), c(n.exponent)];
      case "group":
        return c(n.e);
      case "abs":
        return ["Abs", c(n.e)];
      case "floor":
        return ["Floor", c(n.e)];
      case "ceil":
        return ["Ceil", c(n.e)];
      case "conjugate":
        return ["Conjugate", c(n.e)];
      case "name":
        // only `\\infty` can be named so: a letter is one character
        return n.name === "infty" ? "PositiveInfinity" : symbolJson(named(n.name, n.sub, n.quotes));
      case "number": {
        const text = n.text.replaceAll(",", "");
        // sympy.Number("073") goes through Python's tokenizer, which rejects leading zeros
        if (/^0+[1-9]\d*$/u.test(text)) throw new SympyLatexError(`invalid literal ${text}`);
        return text.includes(".") ? Number(text) : { num: text };
      }
      case "differential":
        return symbolJson("d" + n.text.slice(1).trim().replace(/^\\/u, ""));
      case "mathit":
        return symbolJson(n.text);
      case "frac":
        // d/dx and partial derivatives stay opaque
        if (
          n.lower.k !== "number" &&
          /^(d\s*[A-Za-z\\]|\\partial)/u.test(nodeText(this.tokens, n.lower))
        ) {
          return this.opaque(n);
        }
        return ["Divide", c(n.upper), c(n.lower)];
      case "binom":
        return ["Binomial", c(n.n), c(n.choose)];
      case "normalFunc":
        return this.normalFunc(n);
      case "call":
        // an undefined sympy Function: equal only to the same call
        return symbolJson(`${named(n.name, n.sub, n.quotes)}(${JSON.stringify(n.args.map(c))})`);
      case "sqrt":
        return n.root ? ["Root", c(n.base), c(n.root)] : ["Sqrt", c(n.base)];
      case "opaque":
        return this.opaque(n);
    }
  }

  /** Juxtaposed factors multiply; a lone `x` between two constants is a times sign. */
  juxtaposed(items: Json[], i = 0): Json {
    const res = items[i];
    if (i === items.length - 1) return res;
    if (i > 0 && res === "x" && !hasSymbols(items[i - 1]) && !hasSymbols(items[i + 1])) {
      return this.juxtaposed(items, i + 1);
    }
    return ["Multiply", res, this.juxtaposed(items, i + 1)];
  }

  normalFunc(n: Extract<LatexNode, { k: "normalFunc" }>): Json {
    const arg = this.convert(n.arg);
    const power = n.sup ? this.convert(n.sup) : null;
    let e: Json;
    if (n.name === "exp") e = ["Exp", arg];
    else if (["log", "lg", "ln"].includes(n.name)) {
      const base = n.sub ? this.convert(n.sub) : n.name === "lg" ? 10 : null;
      e = base === null ? ["Ln", arg] : ["Log", arg, base];
    } else if (Object.hasOwn(INVERSE, n.name) && JSON.stringify(power) === MINUS_ONE) {
      return [INVERSE[n.name], arg];
    } else e = [HEAD[n.name], arg];
    return power === null ? e : ["Power", e, power];
  }
}

/**
 * sympy's `parse_latex(text)` as MathJSON; throws SympyLatexError where sympy raises. Constructs
 * we do not model come back as opaque symbols of their own text.
 */
export function parseSympyLatex(text: string): Json {
  const { tree, tokens } = parseLatexTree(text.trim());
  return new Converter(tokens).convert(tree);
}
