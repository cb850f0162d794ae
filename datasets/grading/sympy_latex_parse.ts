/**
 * A recursive-descent reading of sympy's LaTeX grammar (LaTeX.g4) into a small tree, with the
 * choices antlr's prediction makes there: left-associative operator levels (relation, additive,
 * mp), juxtaposed factors, and at each optional part or loop the first alternative that parses
 * (antlr takes the lowest-numbered alternative when several fit). The grammar has no end-of-input
 * rule, so reading stops after the longest first relation ("1,2" is 1). Syntax errors throw
 * SympyLatexError.
 */
import { SympyLatexError, type Token, TokenStream } from "./sympy_latex_lex.ts";
import { type Body, Fail, type LatexNode, type RuleParser } from "./sympy_latex_grammar.ts";
import { evalAt } from "./sympy_latex_opaque.ts";
import { func } from "./sympy_latex_func.ts";

export type { LatexNode };

const RELATIONS = new Set(["EQUAL", "LT", "LTE", "GT", "GTE", "NEQ"]);
const MP_OPS: Record<string, "mul" | "div"> = {
  MUL: "mul",
  CMD_TIMES: "mul",
  CMD_CDOT: "mul",
  DIV: "div",
  CMD_DIV: "div",
  COLON: "div",
};
const GROUPS: Record<string, string> = {
  L_PAREN: "R_PAREN",
  L_BRACKET: "R_BRACKET",
  L_BRACE: "R_BRACE",
  L_BRACE_LITERAL: "R_BRACE_LITERAL",
};

/** The parser state: tokens, position, and one method per grammar rule. */
export class Parser implements RuleParser {
  pos = 0;
  /** Whether numbers read `,ddd` groups (not in a function argument that needs its comma). */
  commaGroups = true;
  constructor(readonly ts: TokenStream) {}

  peek(k = 0): string {
    return this.ts.at(this.pos + k).type;
  }
  next(): Token {
    const t = this.ts.at(this.pos);
    if (t.type === "EOF") throw new Fail();
    this.pos++;
    return t;
  }
  expect(type: string): Token {
    if (this.peek() !== type) throw new Fail();
    return this.next();
  }
  node(from: number, body: Body): LatexNode {
    return { ...body, from, to: this.pos } as LatexNode;
  }
  /** Runs `f`; where it fails, rewinds and returns undefined (the alternative does not fit). */
  attempt<T>(f: () => T): T | undefined {
    const start = this.pos;
    try {
      return f();
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
      this.pos = start;
      return undefined;
    }
  }
  /** Left-associative loop: `operand (op operand)*`, an operator kept only with its operand. */
  binary(
    operand: () => LatexNode,
    opOf: (type: string) => Body["k"] | string | undefined,
    make: (op: string, l: LatexNode, r: LatexNode) => Body,
    committed = false,
  ): LatexNode {
    const from = this.pos;
    let left = operand();
    for (;;) {
      const op = opOf(this.peek());
      if (op === undefined) return left;
      // a relation sign commits (antlr's precedence filter): "4=" raises, "2+" is 2
      const right = committed
        ? (this.next(), operand())
        : this.attempt(() => (this.next(), operand()));
      if (right === undefined) return left;
      left = this.node(from, make(op, left, right));
    }
  }

  relation(): LatexNode {
    return this.binary(
      () => this.expr(),
      (t) => RELATIONS.has(t) ? t : undefined,
      (op, l, r) => ({ k: "rel", op, l, r }),
      true,
    );
  }
  expr(): LatexNode {
    return this.binary(
      () => this.mp(false),
      (t) => t === "ADD" ? "add" : t === "SUB" ? "sub" : undefined,
      (op, l, r) => ({ k: op as "add" | "sub", l, r }),
    );
  }
  mp(nofunc: boolean): LatexNode {
    return this.binary(
      () => this.unary(nofunc),
      (t) => MP_OPS[t],
      (op, l, r) => ({ k: op as "mul" | "div", l, r }),
    );
  }
  unary(nofunc: boolean): LatexNode {
    const from = this.pos;
    const t = this.peek();
    if (t === "ADD" || t === "SUB") {
      this.next();
      return this.node(from, { k: "sign", negate: t === "SUB", arg: this.unary(nofunc) });
    }
    // unary: postfix+ ; unary_nofunc: postfix postfix_nofunc*
    const items = [this.postfix(false)];
    for (;;) {
      const more = this.attempt(() => this.postfix(nofunc));
      if (more === undefined) break;
      items.push(more);
    }
    return this.node(from, { k: "juxt", items });
  }
  postfix(nofunc: boolean): LatexNode {
    const from = this.pos;
    const base = this.exp(nofunc);
    const ops: ("bang" | "evalAt")[] = [];
    for (;;) {
      if (this.peek() === "BANG") {
        this.next();
        ops.push("bang");
      } else if (this.peek() === "BAR" && this.attempt(() => evalAt(this)) !== undefined) {
        ops.push("evalAt");
      } else break;
    }
    return ops.length === 0 ? base : this.node(from, { k: "postfix", base, ops });
  }
  exp(nofunc: boolean): LatexNode {
    const from = this.pos;
    let base = this.comp(nofunc);
    while (this.peek() === "CARET") {
      const exponent = this.attempt(() => {
        this.next();
        const e = this.atomOrBraced();
        if (this.peek() === "UNDERSCORE") this.subexpr();
        return e;
      });
      if (exponent === undefined) break;
      base = this.node(from, { k: "pow", base, exponent });
    }
    return base;
  }
  atomOrBraced(): LatexNode {
    if (this.peek() !== "L_BRACE") return this.atom();
    this.next();
    const e = this.expr();
    this.expect("R_BRACE");
    return e;
  }
  comp(nofunc: boolean): LatexNode {
    const from = this.pos;
    const t = this.peek();
    const close = GROUPS[t];
    if (close !== undefined) {
      this.next();
      const e = this.expr();
      this.expect(close);
      return this.node(from, { k: "group", e });
    }
    if (t === "BAR") {
      const abs = this.attempt(() => {
        this.next();
        const e = this.expr();
        this.expect("BAR");
        return this.node(from, { k: "abs", e });
      });
      if (abs !== undefined) return abs;
    }
    if (t === "L_FLOOR" || t === "L_CEIL") {
      this.next();
      const e = this.expr();
      this.expect(t === "L_FLOOR" ? "R_FLOOR" : "R_CEIL");
      return this.node(from, { k: t === "L_FLOOR" ? "floor" : "ceil", e });
    }
    if (!nofunc) {
      const f = this.attempt(() => func(this));
      if (f !== undefined) return f;
    }
    return this.atom();
  }
  /** `(sub? quotes? | quotes? sub?)` after a name. */
  nameTail(): { sub?: string; quotes?: string } {
    const tail: { sub?: string; quotes?: string } = {};
    const sub = () => {
      const from = this.pos;
      if (this.peek() === "UNDERSCORE") {
        this.subexpr(); // antlr's lookahead runs into the subscript: a bad one raises
        tail.sub = this.text(from + 1, this.pos).replace(/^\{|\}$/gu, "");
      }
    };
    sub();
    if (this.peek() === "SINGLE_QUOTES") tail.quotes = this.next().text;
    if (tail.sub === undefined && tail.quotes !== undefined) sub();
    return tail;
  }
  text(from: number, to: number): string {
    return this.ts.tokens.slice(from, to).map((t) => t.text).join("");
  }
  subexpr(): LatexNode {
    this.expect("UNDERSCORE");
    return this.atomOrBraced();
  }
  supexpr(): LatexNode {
    this.expect("CARET");
    return this.atomOrBraced();
  }
  atom(): LatexNode {
    const from = this.pos;
    const t = this.peek();
    if (t === "LETTER" || t === "SYMBOL") {
      const head = this.next().text;
      const name = t === "SYMBOL" ? head.slice(1) : head;
      return this.node(from, { k: "name", name, ...this.nameTail() });
    }
    if (t === "DIGIT") return this.number();
    if (t === "DIFFERENTIAL") return this.node(from, { k: "differential", text: this.next().text });
    if (t === "CMD_MATHIT") {
      this.next();
      this.expect("L_BRACE");
      let text = "";
      while (this.peek() === "LETTER") text += this.next().text;
      this.expect("R_BRACE");
      return this.node(from, { k: "mathit", text });
    }
    if (t === "CMD_FRAC") {
      this.next();
      const upper = this.fracPart();
      return this.node(from, { k: "frac", upper, lower: this.fracPart() });
    }
    if (t === "CMD_BINOM") {
      this.next();
      const n = this.braced();
      return this.node(from, { k: "binom", n, choose: this.braced() });
    }
    if (t === "L_ANGLE") { // bra
      this.next();
      this.expr();
      if (this.peek() !== "R_BAR") this.expect("BAR");
      else this.next();
      return this.node(from, { k: "opaque" });
    }
    if (t === "L_BAR" || t === "BAR") { // ket
      this.next();
      this.expr();
      this.expect("R_ANGLE");
      return this.node(from, { k: "opaque" });
    }
    throw new Fail();
  }
  braced(): LatexNode {
    this.expect("L_BRACE");
    const e = this.expr();
    this.expect("R_BRACE");
    return e;
  }
  fracPart(): LatexNode {
    if (this.peek() !== "DIGIT") return this.braced();
    const from = this.pos;
    return this.node(from, { k: "number", text: this.next().text });
  }
  /** number: DIGIT+ (',' DIGIT DIGIT DIGIT)* ('.' DIGIT+)? */
  number(): LatexNode {
    const from = this.pos;
    if (this.endsInBareDot()) {
      // "98." is 9 and "326." is 3*2: antlr gives up on the digit loop and takes one digit
      return this.node(from, { k: "number", text: this.next().text });
    }
    let text = "";
    while (this.peek() === "DIGIT") text += this.next().text;
    while (
      this.commaGroups && this.peek() === "," && this.peek(1) === "DIGIT" &&
      this.peek(2) === "DIGIT" &&
      this.peek(3) === "DIGIT"
    ) {
      this.next();
      for (let i = 0; i < 3; i++) text += this.next().text;
    }
    if (this.peek() === ".") {
      text += this.next().text + this.expect("DIGIT").text;
      while (this.peek() === "DIGIT") text += this.next().text;
    }
    return this.node(from, { k: "number", text });
  }
  /** Whether the number here ends in a `.` without digits after it (more than one digit). */
  endsInBareDot(): boolean {
    let k = 0;
    while (this.peek(k) === "DIGIT") k++;
    const digits = k;
    while (
      this.peek(k) === "," && this.peek(k + 1) === "DIGIT" && this.peek(k + 2) === "DIGIT" &&
      this.peek(k + 3) === "DIGIT"
    ) k += 4;
    return (digits > 1 || k > digits) && this.peek(k) === "." && this.peek(k + 1) !== "DIGIT";
  }
}

/** The first relation of `text` as sympy's grammar reads it, with its tokens (for node text). */
export function parseLatexTree(text: string): { tree: LatexNode; tokens: Token[] } {
  const ts = new TokenStream(text);
  const p = new Parser(ts);
  try {
    const tree = p.relation();
    p.peek(); // antlr reads the token after the last it used
    return { tree, tokens: ts.tokens };
  } catch (e) {
    if (e instanceof Fail) throw new SympyLatexError("parse_latex would raise: syntax error");
    throw e;
  }
}

/** The text of a node as antlr's getText gives it (tokens joined, skipped ones left out). */
export function nodeText(tokens: Token[], n: LatexNode): string {
  return tokens.slice(n.from, n.to).map((t) => t.text).join("");
}
