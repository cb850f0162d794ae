/**
 * sympy's `parse_expr`, which the harness's symbolic_equal tries when parse_latex raises (on
 * "1,2]", "{1,2}", "10^6\\%"...), so those answers get Python semantics: `^` is XOR on integers,
 * `3!` is 6, "(1,2)" a tuple, "{1,2}" a set. This module reproduces that for the small Python
 * grammar answers use; anything Python would reject throws, and the caller moves on.
 */
import { symbolJson } from "./sympy_latex.ts";
import type { Json } from "./py_names.ts";
import { CONSTANTS, FUNCTIONS, KEYWORDS, OPAQUE_NAMES } from "./py_names.ts";

/** MathJSON, as the compute engine boxes it. */
export type { Json };

/** A Python/sympy value from parse_expr. */
export type PyValue =
  | { k: "int"; v: bigint }
  | { k: "rat"; n: bigint; d: bigint }
  | { k: "float"; v: number }
  | { k: "expr"; json: Json }
  | { k: "seq"; kind: "tuple" | "list" | "set"; items: PyValue[] }
  | { k: "opaque"; repr: string };

/** Python would raise here; the harness moves on to the next parser. */
export class PyParseError extends Error {}
/** Python would compute for longer than any time limit (e.g. 9**9**9): report a timeout. */
export class TooExpensiveError extends Error {}

/** The largest exact integer computed (bits); a bigger power is reported as a timeout. */
export const MAX_EXACT_BITS = 2 ** 24;
/** The largest n whose n! is computed exactly. */
export const MAX_FACTORIAL = 20000;

const TOKEN_RE =
  /\s*(?:(\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?|\.\d[\d_]*(?:[eE][+-]?\d+)?)|([\p{L}_][\p{L}\p{N}_]*)|(\*\*|\/\/|==|!=|<=|>=|!!|[-+*/%^&|~()[\]{},<>!]))/uy;

function tokenize(src: string): string[] {
  const tokens: string[] = [];
  let pos = 0;
  while (pos < src.length) {
    TOKEN_RE.lastIndex = pos;
    const m = TOKEN_RE.exec(src);
    if (!m) {
      if (/^\s*$/u.test(src.slice(pos))) break;
      throw new PyParseError(`invalid syntax at ${pos}`);
    }
    tokens.push(m[1] ?? m[2] ?? m[3]);
    pos = TOKEN_RE.lastIndex;
  }
  return tokens;
}

/** A stable structural key of a value (Python's == on sympy objects is structural). */
export function pyKey(v: PyValue): string {
  return JSON.stringify(v, (_k, x) => typeof x === "bigint" ? `${x}n` : x);
}

const int = (v: bigint): PyValue => ({ k: "int", v });
function rat(n: bigint, d: bigint): PyValue {
  if (d === 0n) return { k: "expr", json: n === 0n ? "NaN" : "ComplexInfinity" };
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n < 0n ? -n : n, d);
  return d / g === 1n ? int(n / g) : { k: "rat", n: n / g, d: d / g };
}
function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a === 0n ? 1n : a;
}
function toFloat(v: PyValue): number | null {
  if (v.k === "int") return Number(v.v);
  if (v.k === "rat") return Number(v.n) / Number(v.d);
  if (v.k === "float") return v.v;
  return null;
}
function asRat(v: PyValue): [bigint, bigint] | null {
  if (v.k === "int") return [v.v, 1n];
  if (v.k === "rat") return [v.n, v.d];
  return null;
}

/** The MathJSON of a numeric or symbolic value; collections and opaque objects throw. */
export function pyToJson(v: PyValue): Json {
  switch (v.k) {
    case "int":
      return { num: v.v.toString() };
    case "rat":
      return ["Rational", { num: v.n.toString() }, { num: v.d.toString() }];
    case "float":
      return v.v;
    case "expr":
      return v.json;
    default:
      throw new PyParseError(`unsupported operand type ${v.k}`);
  }
}

function arith(op: string, a: PyValue, b: PyValue): PyValue {
  const ra = asRat(a);
  const rb = asRat(b);
  if (ra && rb) {
    const [an, ad] = ra;
    const [bn, bd] = rb;
    if (op === "+") return rat(an * bd + bn * ad, ad * bd);
    if (op === "-") return rat(an * bd - bn * ad, ad * bd);
    if (op === "*") return rat(an * bn, ad * bd);
    if (op === "/") return rat(an * bd, ad * bn);
  }
  const fa = toFloat(a);
  const fb = toFloat(b);
  if (fa !== null && fb !== null) {
    if (op === "+") return { k: "float", v: fa + fb };
    if (op === "-") return { k: "float", v: fa - fb };
    if (op === "*") return { k: "float", v: fa * fb };
    if (op === "/") return { k: "float", v: fa / fb };
  }
  const head = { "+": "Add", "-": "Subtract", "*": "Multiply", "/": "Divide" }[op]!;
  return { k: "expr", json: [head, pyToJson(a), pyToJson(b)] };
}

function power(a: PyValue, b: PyValue): PyValue {
  const ra = asRat(a);
  if (ra && b.k === "int") {
    const bits = BigInt(
      (ra[0] < 0n ? -ra[0] : ra[0]).toString(2).length + ra[1].toString(2).length,
    );
    const e = b.v < 0n ? -b.v : b.v;
    if (bits * e > BigInt(MAX_EXACT_BITS)) throw new TooExpensiveError("integer power too large");
    const n = ra[0] ** e;
    const d = ra[1] ** e;
    return b.v < 0n ? rat(d, n) : rat(n, d);
  }
  const fa = toFloat(a);
  const fb = toFloat(b);
  if (fa !== null && fb !== null && (a.k === "float" || b.k === "float") && fa >= 0) {
    return { k: "float", v: fa ** fb };
  }
  return { k: "expr", json: ["Power", pyToJson(a), pyToJson(b)] };
}

function xor(a: PyValue, b: PyValue): PyValue {
  if (a.k === "int" && b.k === "int") return int(a.v ^ b.v);
  const isSymbol = (v: PyValue) =>
    v.k === "expr" && typeof v.json === "string" && !Object.hasOwn(CONSTANTS, v.json);
  if (isSymbol(a) && isSymbol(b)) {
    const names = [String((a as { json: string }).json), String((b as { json: string }).json)]
      .sort();
    return { k: "opaque", repr: `${names[0]} ^ ${names[1]}` };
  }
  throw new PyParseError("unsupported operand type(s) for ^");
}

function factorial(v: PyValue, double: boolean): PyValue {
  if (v.k === "int" && !double) {
    if (v.v < 0n) return { k: "expr", json: "ComplexInfinity" };
    if (v.v > BigInt(MAX_FACTORIAL)) throw new TooExpensiveError("factorial too large");
    let f = 1n;
    for (let i = 2n; i <= v.v; i++) f *= i;
    return int(f);
  }
  return { k: "expr", json: [double ? "Factorial2" : "Factorial", pyToJson(v)] };
}

/** Recursive-descent parser over Python's precedence levels, evaluating as it goes. */
class Parser {
  #i = 0;
  constructor(private readonly tokens: string[]) {}

  parse(): PyValue {
    const v = this.tuple(null);
    if (this.#i < this.tokens.length) throw new PyParseError(`unexpected ${this.peek()}`);
    return v;
  }
  private peek(): string | undefined {
    return this.tokens[this.#i];
  }
  private take(t?: string): string {
    const tok = this.tokens[this.#i];
    if (tok === undefined || (t !== undefined && tok !== t)) throw new PyParseError("syntax");
    this.#i++;
    return tok;
  }
  /** comma-separated items; a bare comma list is a tuple */
  private tuple(close: string | null): PyValue {
    const items: PyValue[] = [];
    let comma = false;
    while (this.peek() !== undefined && this.peek() !== close) {
      items.push(this.comparison());
      if (this.peek() !== ",") break;
      this.take(",");
      comma = true;
    }
    if (items.length === 0) throw new PyParseError("empty expression");
    return comma || items.length > 1 ? { k: "seq", kind: "tuple", items } : items[0];
  }
  private comparison(): PyValue {
    const left = this.bitOr();
    const ops: Record<string, string> = {
      "<": "Less",
      ">": "Greater",
      "<=": "LessEqual",
      ">=": "GreaterEqual",
    };
    const op = this.peek();
    if (op === undefined || !(Object.hasOwn(ops, op) || op === "==" || op === "!=")) return left;
    this.take();
    const right = this.bitOr();
    if (["<", ">", "<=", ">=", "==", "!="].includes(this.peek() ?? "")) {
      throw new PyParseError("chained comparison of relationals");
    }
    if (op === "==" || op === "!=") {
      const same = pyKey(left) === pyKey(right);
      return { k: "opaque", repr: String(op === "==" ? same : !same) };
    }
    const fl = toFloat(left);
    const fr = toFloat(right);
    if (fl !== null && fr !== null) {
      const r = op === "<" ? fl < fr : op === ">" ? fl > fr : op === "<=" ? fl <= fr : fl >= fr;
      return { k: "opaque", repr: String(r) };
    }
    return { k: "expr", json: [ops[op], pyToJson(left), pyToJson(right)] };
  }
  private bitOr(): PyValue {
    let v = this.bitXor();
    while (this.peek() === "|") {
      this.take();
      const r = this.bitXor();
      if (v.k !== "int" || r.k !== "int") throw new PyParseError("unsupported |");
      v = int(v.v | r.v);
    }
    return v;
  }
  private bitXor(): PyValue {
    let v = this.bitAnd();
    while (this.peek() === "^") {
      this.take();
      v = xor(v, this.bitAnd());
    }
    return v;
  }
  private bitAnd(): PyValue {
    let v = this.sum();
    while (this.peek() === "&") {
      this.take();
      const r = this.sum();
      if (v.k !== "int" || r.k !== "int") throw new PyParseError("unsupported &");
      v = int(v.v & r.v);
    }
    return v;
  }
  private sum(): PyValue {
    let v = this.term();
    while (this.peek() === "+" || this.peek() === "-") v = arith(this.take(), v, this.term());
    return v;
  }
  private term(): PyValue {
    let v = this.unary();
    for (
      let op = this.peek();
      op === "*" || op === "/" || op === "%" || op === "//";
      op = this.peek()
    ) {
      this.take();
      const r = this.unary();
      if (op === "*" || op === "/") v = arith(op, v, r);
      else v = intDivMod(op, v, r);
    }
    return v;
  }
  private unary(): PyValue {
    const op = this.peek();
    if (op === "-") {
      this.take();
      return arith("*", int(-1n), this.unary());
    }
    if (op === "+") {
      this.take();
      return this.unary();
    }
    if (op === "~") {
      this.take();
      const v = this.unary();
      if (v.k !== "int") throw new PyParseError("unsupported ~");
      return int(-v.v - 1n);
    }
    return this.power();
  }
  private power(): PyValue {
    const base = this.postfix();
    if (this.peek() !== "**") return base;
    this.take();
    return power(base, this.unary());
  }
  private postfix(): PyValue {
    let v = this.atom();
    for (;;) {
      const t = this.peek();
      if (t === "!" || t === "!!") {
        this.take();
        v = factorial(v, t === "!!");
      } else if (t === "(" || t === "[") {
        throw new PyParseError("object is not callable or subscriptable");
      } else return v;
    }
  }
  private atom(): PyValue {
    const t = this.take();
    if (/^[\d.]/.test(t)) return numberToken(t);
    if (t === "(") {
      if (this.peek() === ")") {
        this.take();
        return { k: "seq", kind: "tuple", items: [] };
      }
      const v = this.tuple(")");
      this.take(")");
      return v;
    }
    if (t === "[" || t === "{") return this.collection(t === "[" ? "]" : "}");
    if (/^[\p{L}_]/u.test(t)) return this.name(t);
    throw new PyParseError(`unexpected ${t}`);
  }
  private collection(close: string): PyValue {
    const items: PyValue[] = [];
    while (this.peek() !== close) {
      items.push(this.comparison());
      if (this.peek() !== ",") break;
      this.take(",");
    }
    this.take(close);
    if (close === "}") {
      if (items.length === 0) return { k: "opaque", repr: "{}" }; // an empty dict
      return { k: "seq", kind: "set", items };
    }
    return { k: "seq", kind: "list", items };
  }
  private name(t: string): PyValue {
    if (KEYWORDS.has(t)) throw new PyParseError(`keyword ${t}`);
    if (t === "True" || t === "False" || t === "None") return { k: "opaque", repr: t };
    if (Object.hasOwn(CONSTANTS, t)) return { k: "expr", json: CONSTANTS[t] };
    if (Object.hasOwn(FUNCTIONS, t) && this.peek() !== "(") return { k: "opaque", repr: t };
    if (this.peek() === "(") {
      // a known function, or an undefined one (auto_symbol makes `f(x)` a Function)
      if (OPAQUE_NAMES.has(t)) throw new PyParseError(`${t} is not callable here`);
      return {
        k: "expr",
        json: [Object.hasOwn(FUNCTIONS, t) ? FUNCTIONS[t] : t, ...this.callArgs().map(pyToJson)],
      };
    }
    if (OPAQUE_NAMES.has(t)) return { k: "opaque", repr: t };
    return { k: "expr", json: symbolJson(t) };
  }
  private callArgs(): PyValue[] {
    this.take("(");
    if (this.peek() === ")") {
      this.take(")");
      return [];
    }
    const args = this.tuple(")");
    this.take(")");
    return args.k === "seq" && args.kind === "tuple" ? args.items : [args];
  }
}

function intDivMod(op: string, a: PyValue, b: PyValue): PyValue {
  if (a.k === "int" && b.k === "int") {
    if (b.v === 0n) return { k: "expr", json: "NaN" };
    const q = a.v / b.v - ((a.v % b.v !== 0n) && ((a.v < 0n) !== (b.v < 0n)) ? 1n : 0n);
    return op === "//" ? int(q) : int(a.v - q * b.v);
  }
  const json = op === "%"
    ? ["Mod", pyToJson(a), pyToJson(b)]
    : ["Floor", ["Divide", pyToJson(a), pyToJson(b)]];
  return { k: "expr", json };
}

function numberToken(t: string): PyValue {
  const clean = t.replaceAll("_", "");
  if (/[.eE]/.test(clean)) return { k: "float", v: Number(clean) };
  if (/^0+[1-9]/u.test(clean)) throw new PyParseError(`leading zeros in ${t}`); // "025"
  return int(BigInt(clean));
}

/** sympy's `parse_expr(text)` for the answers we see; throws where Python would raise. */
export function parsePython(text: string): PyValue {
  if (text.trim() === "") throw new PyParseError("empty");
  return new Parser(tokenize(text)).parse();
}
