/**
 * The tokenizer of sympy's LaTeX grammar (LaTeX.g4), written out by hand: longest match wins,
 * a fixed command beats `\name` (SYMBOL) of the same length, spaces and spacing commands are
 * skipped. Tokens are made on demand, as antlr's token stream does: a character no token matches
 * raises only once the parser looks that far.
 */

/** A token: its grammar name (`,` and `.` stand for themselves) and its text. */
export interface Token {
  type: string;
  text: string;
}

/** The input could not be read as sympy's LaTeX (parse_latex would raise). */
export class SympyLatexError extends Error {}

const SKIP = "skip";

/** Fixed backslash commands (longest match; SYMBOL takes any other `\letters`). */
const COMMANDS: Record<string, string> = {
  "\\,": SKIP,
  "\\thinspace": SKIP,
  "\\:": SKIP,
  "\\medspace": SKIP,
  "\\;": SKIP,
  "\\thickspace": SKIP,
  "\\quad": SKIP,
  "\\qquad": SKIP,
  "\\!": SKIP,
  "\\negthinspace": SKIP,
  "\\negmedspace": SKIP,
  "\\negthickspace": SKIP,
  "\\left": SKIP,
  "\\right": SKIP,
  "\\vrule": SKIP,
  "\\vcenter": SKIP,
  "\\vbox": SKIP,
  "\\vskip": SKIP,
  "\\vspace": SKIP,
  "\\hfil": SKIP,
  "\\*": SKIP,
  "\\-": SKIP,
  "\\.": SKIP,
  "\\/": SKIP,
  '\\"': SKIP,
  "\\(": SKIP,
  "\\=": SKIP,
  "\\{": "L_BRACE_LITERAL",
  "\\}": "R_BRACE_LITERAL",
  "\\right|": "R_BAR",
  "\\left|": "L_BAR",
  "\\langle": "L_ANGLE",
  "\\rangle": "R_ANGLE",
  "\\lim": "FUNC_LIM",
  "\\to": "LIM_APPROACH_SYM",
  "\\rightarrow": "LIM_APPROACH_SYM",
  "\\Rightarrow": "LIM_APPROACH_SYM",
  "\\longrightarrow": "LIM_APPROACH_SYM",
  "\\Longrightarrow": "LIM_APPROACH_SYM",
  "\\int": "FUNC_INT",
  "\\int\\limits": "FUNC_INT",
  "\\sum": "FUNC_SUM",
  "\\prod": "FUNC_PROD",
  "\\lfloor": "L_FLOOR",
  "\\rfloor": "R_FLOOR",
  "\\lceil": "L_CEIL",
  "\\rceil": "R_CEIL",
  "\\sqrt": "FUNC_SQRT",
  "\\overline": "FUNC_OVERLINE",
  "\\times": "CMD_TIMES",
  "\\cdot": "CMD_CDOT",
  "\\div": "CMD_DIV",
  "\\frac": "CMD_FRAC",
  "\\dfrac": "CMD_FRAC",
  "\\tfrac": "CMD_FRAC",
  "\\binom": "CMD_BINOM",
  "\\dbinom": "CMD_BINOM",
  "\\tbinom": "CMD_BINOM",
  "\\mathit": "CMD_MATHIT",
  "\\neq": "NEQ",
  "\\leq": "LTE",
  "\\le": "LTE",
  "\\leqq": "LTE",
  "\\leqslant": "LTE",
  "\\geq": "GTE",
  "\\ge": "GTE",
  "\\geqq": "GTE",
  "\\geqslant": "GTE",
};
/** The named functions (func_normal): `\sin` and the like. */
export const NORMAL_FUNCTIONS = new Set(
  "exp log lg ln sin cos tan csc sec cot arcsin arccos arctan arccsc arcsec arccot sinh cosh tanh arsinh arcosh artanh"
    .split(" "),
);
for (const f of NORMAL_FUNCTIONS) COMMANDS["\\" + f] = "FUNC_NORMAL";

const SINGLE: Record<string, string> = {
  ",": ",",
  ".": ".",
  "+": "ADD",
  "-": "SUB",
  "*": "MUL",
  "/": "DIV",
  "(": "L_PAREN",
  ")": "R_PAREN",
  "{": "L_BRACE",
  "}": "R_BRACE",
  "[": "L_BRACKET",
  "]": "R_BRACKET",
  "|": "BAR",
  "_": "UNDERSCORE",
  "^": "CARET",
  ":": "COLON",
  "<": "LT",
  ">": "GT",
  "!": "BANG",
};
const COMMAND_LIST = Object.keys(COMMANDS);
const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isLetter = (c: string | undefined) => c !== undefined && /^[A-Za-z]$/u.test(c);
const lettersFrom = (s: string, i: number) => {
  let j = i;
  while (isLetter(s[j])) j++;
  return j - i;
};
const spacesFrom = (s: string, i: number) => {
  let j = i;
  while (isSpace(s[j])) j++;
  return j - i;
};

/** The longest token at `i`: [type, length], or null where none matches. */
function matchAt(s: string, i: number): [string, number] | null {
  const c = s[i];
  if (isSpace(c)) return [SKIP, spacesFrom(s, i)];
  if (c === "\\") {
    let best: [string, number] | null = null;
    for (const cmd of COMMAND_LIST) {
      if (s.startsWith(cmd, i) && (best === null || cmd.length > best[1])) {
        best = [COMMANDS[cmd], cmd.length];
      }
    }
    const symbol = 1 + lettersFrom(s, i + 1);
    if (symbol > 1 && (best === null || symbol > best[1])) best = ["SYMBOL", symbol];
    return best;
  }
  if (c === "d") {
    // DIFFERENTIAL: d, optional spaces, then a letter or a `\letters` command
    const j = i + 1 + spacesFrom(s, i + 1);
    if (isLetter(s[j])) return ["DIFFERENTIAL", j + 1 - i];
    if (s[j] === "\\" && isLetter(s[j + 1])) {
      return ["DIFFERENTIAL", j + 1 + lettersFrom(s, j + 1) - i];
    }
  }
  if (isLetter(c)) return ["LETTER", 1];
  if (c >= "0" && c <= "9") return ["DIGIT", 1];
  if (c === "'") {
    let j = i;
    while (s[j] === "'") j++;
    return ["SINGLE_QUOTES", j - i];
  }
  // EQUAL is `&`, spaces, `=` or a lone `=` (`=&` stops after `=`: the loop there is lazy)
  if (c === "=") return ["EQUAL", 1];
  if (c === "&") {
    const j = i + 1 + spacesFrom(s, i + 1);
    return s[j] === "=" ? ["EQUAL", j + 1 - i] : null;
  }
  return Object.hasOwn(SINGLE, c) ? [SINGLE[c], 1] : null;
}

/** Tokens of `text` on demand; `at(k)` raises where the k-th token cannot be read. */
export class TokenStream {
  readonly tokens: Token[] = [];
  private pos = 0;
  private failed = false;

  constructor(private readonly text: string) {}

  /** The k-th token (EOF past the end); raises SympyLatexError at an unreadable character. */
  at(k: number): Token {
    while (this.tokens.length <= k) {
      if (this.failed) throw new SympyLatexError("parse_latex would raise: unreadable token");
      if (this.pos >= this.text.length) return { type: "EOF", text: "" };
      const m = matchAt(this.text, this.pos);
      if (m === null) {
        this.failed = true;
        continue;
      }
      const [type, length] = m;
      if (type !== SKIP) {
        this.tokens.push({ type, text: this.text.slice(this.pos, this.pos + length) });
      }
      this.pos += length;
    }
    return this.tokens[k];
  }
}
