/**
 * What the rule files share with the parser, so that they depend on this and not on each other:
 * the node type, the failure of an alternative, and the parser's interface the function and
 * opaque-construct rules (sympy_latex_func.ts, sympy_latex_opaque.ts) call back into.
 */
import type { Token, TokenStream } from "./sympy_latex_lex.ts";

/** A parsed node; `from`/`to` are token indices, for the text of opaque constructs. */
export type LatexNode =
  & { from: number; to: number }
  & (
    | { k: "rel"; op: string; l: LatexNode; r: LatexNode }
    | { k: "add" | "sub"; l: LatexNode; r: LatexNode }
    | { k: "mul" | "div"; l: LatexNode; r: LatexNode }
    | { k: "sign"; negate: boolean; arg: LatexNode }
    | { k: "juxt"; items: LatexNode[] }
    | { k: "postfix"; base: LatexNode; ops: ("bang" | "evalAt")[] }
    | { k: "pow"; base: LatexNode; exponent: LatexNode }
    | { k: "group" | "abs" | "floor" | "ceil" | "conjugate"; e: LatexNode }
    | { k: "name"; name: string; sub?: string; quotes?: string }
    | { k: "number"; text: string }
    | { k: "differential" | "mathit"; text: string }
    | { k: "frac"; upper: LatexNode; lower: LatexNode }
    | { k: "binom"; n: LatexNode; choose: LatexNode }
    | { k: "normalFunc"; name: string; sub?: LatexNode; sup?: LatexNode; arg: LatexNode }
    | { k: "call"; name: string; sub?: string; quotes?: string; args: LatexNode[] }
    | { k: "sqrt"; root?: LatexNode; base: LatexNode }
    | { k: "opaque" }
  );
export type Body = LatexNode extends infer N ? N extends unknown ? Omit<N, "from" | "to"> : never
  : never;

/** A syntax error: the alternative being tried does not fit. */
export class Fail extends Error {}

/** The parser as the rule files see it (implemented by sympy_latex_parse.ts's Parser). */
export interface RuleParser {
  pos: number;
  /** Whether numbers read `,ddd` groups (not in a function argument that needs its comma). */
  commaGroups: boolean;
  readonly ts: TokenStream;
  peek(k?: number): string;
  next(): Token;
  expect(type: string): Token;
  node(from: number, body: Body): LatexNode;
  /** Runs `f`; where it fails, rewinds and returns undefined (the alternative does not fit). */
  attempt<T>(f: () => T): T | undefined;
  expr(): LatexNode;
  mp(nofunc: boolean): LatexNode;
  nameTail(): { sub?: string; quotes?: string };
  subexpr(): LatexNode;
  supexpr(): LatexNode;
  braced(): LatexNode;
}
