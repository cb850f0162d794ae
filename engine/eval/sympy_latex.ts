/**
 * sympy's `parse_latex` (the first parser the harness's symbolic_equal tries), on sympy's own
 * grammar run by antlr4ng's interpreters, converted to MathJSON as sympy's _parse_latex_antlr.py
 * converts the tree. Its leniency decides verdicts and is kept: it reads only the first relation
 * ("1,2" is 1), unknown commands are symbols (`\displaystyle` times 10), `\pi` and `e` are plain
 * symbols, `\log` is natural. Syntax errors throw SympyLatexError (the harness then tries
 * parse_expr). Derivatives, integrals, sums and limits become opaque symbols of their text.
 */
import {
  ATNDeserializer,
  BaseErrorListener,
  CharStream,
  CommonTokenStream,
  LexerInterpreter,
  ParserInterpreter,
  type ParserRuleContext,
  type ParseTree,
  TerminalNode,
  Vocabulary,
} from "antlr4ng";
import * as G from "./sympy_latex_grammar.ts";
import type { Json } from "./py_expr.ts";

/** parse_latex raised (the harness moves on to parse_expr). */
export class SympyLatexError extends Error {}
/** A construct we keep opaque (derivative, integral, sum, limit, bra/ket): a symbol of its text. */
const opaque = (n: ParseTree): Json => symbolJson(`latex:${n.getText()}`);

const vocabulary = new Vocabulary(G.LITERAL_NAMES, G.SYMBOLIC_NAMES);
const lexerAtn = new ATNDeserializer().deserialize(G.LEXER_ATN.split(",").map(Number));
const parserAtn = new ATNDeserializer().deserialize(G.PARSER_ATN.split(",").map(Number));
const MATH_RULE = G.PARSER_RULES.indexOf("math");

class Raise extends BaseErrorListener {
  override syntaxError(): void {
    throw new SympyLatexError("parse_latex would raise");
  }
}

type Node = ParseTree;
const ruleName = (n: Node) =>
  n instanceof TerminalNode ? "" : G.PARSER_RULES[(n as ParserRuleContext).ruleIndex];
const tokenName = (n: Node) =>
  n instanceof TerminalNode ? G.SYMBOLIC_NAMES[n.symbol.type] ?? n.getText() : "";
const kids = (n: Node): Node[] => (n as ParserRuleContext).children ?? [];
const sub = (n: Node, name: string) => kids(n).filter((k) => ruleName(k) === name);
const one = (n: Node, name: string): Node | undefined => sub(n, name)[0];
const tok = (n: Node, ...names: string[]) => kids(n).find((k) => names.includes(tokenName(k)));

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

/** StrPrinter of a converted subscript: good enough for names (x_{1}, a_{n}). */
function subscriptText(n: Node): string {
  return kids(n).slice(1).map((k) => k.getText()).join("").replace(/^\{|\}$/gu, "");
}

function named(base: string, n: Node): string {
  let name = base;
  const s = one(n, "subexpr");
  if (s) name += `_{${subscriptText(s)}}`;
  const q = tok(n, "SINGLE_QUOTES");
  if (q) name += q.getText();
  return name;
}

function relation(n: Node): Json {
  const e = one(n, "expr");
  if (e) return expr(e);
  const [l, r] = sub(n, "relation").map(relation);
  const op = tokenName(kids(n)[1]);
  const heads: Record<string, string> = {
    LT: "Less",
    LTE: "LessEqual",
    GT: "Greater",
    GTE: "GreaterEqual",
    EQUAL: "Equal",
    NEQ: "NotEqual",
  };
  return [heads[op], l, r];
}

const expr = (n: Node): Json => additive(one(n, "additive")!);

function additive(n: Node): Json {
  const parts = sub(n, "additive");
  if (parts.length === 0) return mp(one(n, "mp")!);
  const [l, r] = parts.map(additive);
  return tok(n, "ADD") ? ["Add", l, r] : ["Add", l, ["Negate", r]];
}

function mp(n: Node): Json {
  const parts = [...sub(n, "mp"), ...sub(n, "mp_nofunc")];
  if (parts.length === 0) return unary(one(n, "unary") ?? one(n, "unary_nofunc")!);
  const [l, r] = parts.map(mp);
  return tok(n, "MUL", "CMD_TIMES", "CMD_CDOT") ? ["Multiply", l, r] : ["Divide", l, r];
}

function unary(n: Node): Json {
  const nested = one(n, "unary") ?? one(n, "unary_nofunc");
  if (nested) return tok(n, "SUB") ? ["Negate", unary(nested)] : unary(nested);
  return postfixList([...sub(n, "postfix"), ...sub(n, "postfix_nofunc")]);
}

/** Juxtaposed factors multiply; a lone `x` between two constants is a times sign. */
function postfixList(arr: Node[], i = 0): Json {
  const res = postfix(arr[i]);
  if (i === arr.length - 1) return res;
  if (
    i > 0 && res === "x" && !hasSymbols(postfix(arr[i - 1])) && !hasSymbols(postfix(arr[i + 1]))
  ) {
    return postfixList(arr, i + 1);
  }
  return ["Multiply", res, postfixList(arr, i + 1)];
}

function postfix(n: Node): Json {
  let e = exp(one(n, "exp") ?? one(n, "exp_nofunc")!);
  for (const op of sub(n, "postfix_op")) {
    if (tok(op, "BANG")) e = ["Factorial", e];
    else e = opaque(n);
  }
  return e;
}

function exp(n: Node): Json {
  const nested = one(n, "exp") ?? one(n, "exp_nofunc");
  if (!nested) return comp(one(n, "comp") ?? one(n, "comp_nofunc")!);
  const a = one(n, "atom");
  return ["Power", exp(nested), a ? atom(a) : expr(one(n, "expr")!)];
}

function comp(n: Node): Json {
  const c = kids(n)[0];
  const inner = () => expr(one(c, "expr")!);
  switch (ruleName(c)) {
    case "group":
      return inner();
    case "abs_group":
      return ["Abs", inner()];
    case "floor":
      return ["Floor", inner()];
    case "ceil":
      return ["Ceil", inner()];
    case "func":
      return func(c);
    default:
      return atom(c);
  }
}

function supSub(n: Node): Json {
  const a = one(n, "atom");
  return a ? atom(a) : expr(one(n, "expr")!);
}

function atom(n: Node): Json {
  const first = kids(n)[0];
  switch (tokenName(first) || ruleName(first)) {
    case "LETTER":
      return symbolJson(named(first.getText(), n));
    case "SYMBOL": {
      const s = first.getText().slice(1);
      return s === "infty" ? "PositiveInfinity" : symbolJson(named(s, n));
    }
    case "number": {
      const text = first.getText().replaceAll(",", "");
      // sympy.Number("073") goes through Python's tokenizer, which rejects leading zeros
      if (/^0+[1-9]\d*$/u.test(text)) throw new SympyLatexError(`invalid literal ${text}`);
      return text.includes(".") ? Number(text) : { num: text };
    }
    case "DIFFERENTIAL":
      return symbolJson("d" + first.getText().slice(1).trim().replace(/^\\/u, ""));
    case "mathit":
      return symbolJson(one(first, "mathit_text")!.getText());
    case "frac":
      return frac(first);
    case "binom": {
      const [top, k] = sub(first, "expr").map(expr);
      return ["Binomial", top, k];
    }
    default:
      return opaque(first);
  }
}

function frac(n: Node): Json {
  const operands = kids(n).filter((k) => ruleName(k) === "expr" || tokenName(k) === "DIGIT");
  const [top, bottom] = operands.map((k) =>
    ruleName(k) === "expr" ? expr(k) : { num: k.getText() }
  );
  const lower = operands[1];
  if (ruleName(lower) === "expr" && /^(d\s*[A-Za-z\\]|\\partial)/u.test(lower.getText())) {
    return opaque(n);
  }
  return ["Divide", top, bottom];
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

function func(n: Node): Json {
  const normal = one(n, "func_normal");
  if (normal) return normalFunc(n, normal.getText().slice(1));
  const head = tok(n, "LETTER", "SYMBOL");
  if (head) {
    const name = named(tokenName(head) === "SYMBOL" ? head.getText().slice(1) : head.getText(), n);
    const args: Json[] = [];
    for (let a = one(n, "args"); a; a = one(a, "args")) args.push(expr(one(a, "expr")!));
    // an undefined sympy Function: equal only to the same call
    return symbolJson(`${name}(${JSON.stringify(args)})`);
  }
  if (tok(n, "FUNC_SQRT")) {
    const parts = sub(n, "expr").map(expr);
    return parts.length === 2 ? ["Root", parts[1], parts[0]] : ["Sqrt", parts[0]];
  }
  if (tok(n, "FUNC_OVERLINE")) return ["Conjugate", expr(one(n, "expr")!)];
  return opaque(n); // integral, sum, product or limit
}

function normalFunc(n: Node, name: string): Json {
  const argNode = one(n, "func_arg") ?? one(n, "func_arg_noparens")!;
  const arg = one(argNode, "expr") ? expr(one(argNode, "expr")!) : mp(one(argNode, "mp_nofunc")!);
  const sup = one(n, "supexpr");
  const power = sup ? supSub(sup) : null;
  let e: Json;
  if (name === "exp") e = ["Exp", arg];
  else if (["log", "lg", "ln"].includes(name)) {
    const s = one(n, "subexpr");
    const base = s ? supSub(s) : name === "lg" ? 10 : null;
    e = base === null ? ["Ln", arg] : ["Log", arg, base];
  } else if (Object.hasOwn(INVERSE, name) && JSON.stringify(power) === MINUS_ONE) {
    return [INVERSE[name], arg];
  } else e = [HEAD[name], arg];
  return power === null ? e : ["Power", e, power];
}

/**
 * sympy's `parse_latex(text)` as MathJSON; throws SympyLatexError where sympy raises. Constructs
 * we do not model come back as opaque symbols of their own text.
 */
export function parseSympyLatex(text: string): Json {
  const input = text.trim();
  const lexer = new LexerInterpreter(
    "LaTeX.g4",
    vocabulary,
    G.LEXER_RULES,
    G.LEXER_CHANNELS,
    G.LEXER_MODES,
    lexerAtn,
    CharStream.fromString(input),
  );
  lexer.removeErrorListeners();
  lexer.addErrorListener(new Raise());
  const parser = new ParserInterpreter(
    "LaTeX.g4",
    vocabulary,
    G.PARSER_RULES,
    parserAtn,
    new CommonTokenStream(lexer),
  );
  parser.removeErrorListeners();
  parser.addErrorListener(new Raise());
  const tree = parser.parse(MATH_RULE);
  return relation(one(tree, "relation")!);
}
