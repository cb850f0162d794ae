"""Answer forms for the grader corpus: other spellings of a gold answer and deliberately wrong
answers, by plain text rewriting (no CAS, so the corpus does not depend on sympy's opinion).
Whether a form is equivalent is not decided here: the harness's verdict is the reference.
"""

import math
import re
from fractions import Fraction

INT_RE = re.compile(r"^-?\d+$")
DEC_RE = re.compile(r"^-?\d*\.\d+$")
FRAC_RE = re.compile(r"^(-?)\\[dt]?frac\{(-?\d+)\}\{(\d+)\}$")
SLASH_RE = re.compile(r"^(-?\d+)/(\d+)$")
COEF_RE = re.compile(r"^(\d+)(\\sqrt\{[^{}]+\}|\\pi|[a-z])$")
SMALL_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
               "ten", "eleven", "twelve"]
OPEN, CLOSE = "([{", ")]}"


def split_top(s, sep):
    """Split on `sep` where no bracket or brace is open."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(s):
        if c in OPEN:
            depth += 1
        elif c in CLOSE:
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(s[start:i])
            start = i + 1
    parts.append(s[start:])
    return parts


def brace_arg(s, at):
    """The brace group starting at s[at] == "{": (content, index after the closing brace)."""
    depth = 0
    for i in range(at, len(s)):
        if s[i] == "{":
            depth += 1
        elif s[i] == "}":
            depth -= 1
            if depth == 0:
                return s[at + 1:i], i + 1
    raise ValueError("unbalanced braces")


def to_python(latex):
    """A Python expression for simple numeric LaTeX (\\frac, \\sqrt, \\pi, ^, \\cdot), or None."""
    s = latex.replace("\\left", "").replace("\\right", "").replace("\\dfrac", "\\frac")
    s = s.replace("\\tfrac", "\\frac").replace("\\cdot", "*").replace("\\times", "*")
    s = s.replace(" ", "")
    out, i = [], 0
    while i < len(s):
        if s.startswith("\\frac{", i):
            num, j = brace_arg(s, i + 5)
            if j >= len(s) or s[j] != "{":
                return None
            den, k = brace_arg(s, j)
            a, b = to_python(num), to_python(den)
            if a is None or b is None:
                return None
            out.append(f"(({a})/({b}))")
            i = k
        elif s.startswith("\\sqrt{", i):
            arg, j = brace_arg(s, i + 5)
            a = to_python(arg)
            if a is None:
                return None
            out.append(f"math.sqrt({a})")
            i = j
        elif s.startswith("\\pi", i):
            out.append("math.pi")
            i += 3
        elif s[i] == "^":
            if i + 1 < len(s) and s[i + 1] == "{":
                arg, j = brace_arg(s, i + 1)
            else:
                arg, j = s[i + 1:i + 2], i + 2
            a = to_python(arg)
            if a is None:
                return None
            out.append(f"**({a})")
            i = j
        elif s[i] in "0123456789.+-*/()":
            out.append(s[i])
            i += 1
        else:
            return None
    expr = "".join(out)
    # implicit products: 2math.sqrt(3), 2(3), )(
    return re.sub(r"(?<=[\d)])(?=math\.|\()", "*", expr)


def numeric_value(latex):
    """The value of a simple numeric LaTeX answer, or None."""
    try:
        expr = to_python(latex)
        if not expr:
            return None
        value = eval(expr, {"__builtins__": {}, "math": math})  # noqa: S307 (own expression)
        return float(value) if math.isfinite(value) else None
    except (ValueError, SyntaxError, ZeroDivisionError, TypeError, OverflowError):
        return None


def decimal(x):
    """x to 6 significant digits (inside the harness's relative tolerance of 1e-4)."""
    return f"{x:.6g}" if abs(x) >= 1e-4 else f"{x:.3e}"


def restated_forms(gold, dataset):
    """(name, answer) spellings of `gold` a grader following the harness may accept."""
    forms = []
    add = lambda name, text: text != gold and forms.append((name, text))  # noqa: E731
    if INT_RE.match(gold):
        n = int(gold)
        add("trailing_zero", f"{n}.0")
        add("percent", f"{n}\\%")
        add("dollars", f"\\${n}")
        add("unit_text", f"{n} \\text{{ units}}")
        add("assignment", f"x = {n}")
        add("degrees", f"{n}^\\circ")
        add("as_fraction", f"\\frac{{{2 * n}}}{{2}}")
        if abs(n) >= 1000:
            add("thousands", f"{n:,}")
        if 0 <= n < len(SMALL_WORDS):
            add("word", SMALL_WORDS[n])
    frac = FRAC_RE.match(gold) or SLASH_RE.match(gold)
    if frac:
        sign, a, b = (frac.group(1), frac.group(2), frac.group(3)) if frac.re is FRAC_RE \
            else ("", frac.group(1), frac.group(2))
        add("slash", f"{sign}{a}/{b}")
        add("dfrac", f"{sign}\\dfrac{{{a}}}{{{b}}}")
        add("sign_inside", f"\\frac{{{'-' if sign else ''}{a}}}{{{b}}}")
        if len(a) == 1 and len(b) == 1 and not sign:
            add("short_frac", f"\\frac{a}{b}")
        if int(b) != 0:
            add("decimal", decimal((-1 if sign else 1) * int(a) / int(b)))
    if DEC_RE.match(gold):
        f = Fraction(gold).limit_denominator(1000)
        if float(f) == float(gold) and f.denominator != 1:
            add("fraction", f"\\frac{{{f.numerator}}}{{{f.denominator}}}")
        add("trailing_zero", gold + "0")
        add("percent_of", f"{float(gold) * 100:g}\\%")
        if gold.startswith("0."):
            add("no_leading_zero", gold[1:])
    value = numeric_value(gold)
    if value is not None and not INT_RE.match(gold) and not frac and not DEC_RE.match(gold):
        add("decimal_approx", decimal(value))
    if "\\frac" in gold:
        add("dfrac", gold.replace("\\frac", "\\dfrac"))
    coef = COEF_RE.match(gold)
    if coef:
        add("product_swapped", f"{coef.group(2)} \\cdot {coef.group(1)}")
    terms = split_top(gold, "+")
    if len(terms) >= 2 and all(t.strip() for t in terms):
        add("sum_reordered", "+".join(reversed(terms)))
    items = split_top(gold[1:-1], ",") if gold[:1] in "([" and gold[-1:] in ")]" else []
    if len(items) >= 2:
        inner = ", ".join(t.strip() for t in items)
        add("spaced", f"{gold[0]}{inner}{gold[-1]}")
        add("left_right", f"\\left{gold[0]}{inner}\\right{gold[-1]}")
    listed = split_top(gold, ",")
    if len(listed) >= 2:
        add("list_reordered", ",".join(reversed(listed)))
        add("list_spaced", ", ".join(t.strip() for t in listed))
    if gold.count("=") == 1:
        lhs, rhs = gold.split("=")
        add("rhs_only", rhs.strip())
        add("sides_swapped", f"{rhs.strip()} = {lhs.strip()}")
    text = re.fullmatch(r"\\text\{(.*)\}", gold)
    if text:
        add("text_unwrapped", text.group(1))
    add("spaces", re.sub(r"\s*([+=,-])\s*", r" \1 ", gold).strip())
    add("left_right_parens", f"\\left( {gold} \\right)")
    add("mathrm_unit", f"{gold} \\mathrm{{~m}}" if dataset == "minerva_math"
        else f"{gold}\\text{{ cm}}")
    return forms


def bump_digit(s, rng):
    """`s` with one digit (chosen at random) changed."""
    at = [i for i, c in enumerate(s) if c.isdigit()]
    if not at:
        return None
    i = rng.choice(at)
    return s[:i] + str((int(s[i]) + rng.randint(1, 8)) % 10) + s[i + 1:]


def wrong_forms(gold, rng):
    """(name, answer) answers that differ from `gold` in one deliberate way."""
    forms = []
    add = lambda name, text: text and text != gold and forms.append((name, text))  # noqa: E731
    if INT_RE.match(gold):
        n = int(gold)
        add("off_by_one", str(n + rng.choice([-1, 1])))
        add("sign_flip", str(-n))
        add("times_ten", str(n * 10))
        add("digits_reversed", str(n)[::-1] if n > 0 else "")
        add("doubled", str(2 * n))
    frac = FRAC_RE.match(gold)
    if frac:
        sign, a, b = frac.groups()
        add("numerator_off", f"{sign}\\frac{{{int(a) + 1}}}{{{b}}}")
        add("reciprocal", f"{sign}\\frac{{{b}}}{{{a}}}")
        add("sign_flip", f"{'' if sign else '-'}\\frac{{{a}}}{{{b}}}")
    if DEC_RE.match(gold):
        add("times_ten", f"{float(gold) * 10:g}")
        add("sign_flip", gold[1:] if gold.startswith("-") else "-" + gold)
    add("digit_changed", bump_digit(gold, rng))
    if "+" in gold:
        add("plus_to_minus", gold.replace("+", "-", 1))
    elif "-" in gold[1:]:
        add("minus_to_plus", gold[0] + gold[1:].replace("-", "+", 1))
    items = split_top(gold[1:-1], ",") if gold[:1] in "([" and gold[-1:] in ")]" else []
    if len(items) >= 2:
        add("tuple_swapped", gold[0] + ",".join([items[1], items[0]] + items[2:]) + gold[-1])
        add("tuple_dropped", gold[0] + ",".join(items[:-1]) + gold[-1])
        other = {"(": "[", "[": "("}[gold[0]]
        add("interval_end", other + gold[1:])
    add("plus_one", f"{gold}+1")
    add("doubled_expr", f"2\\left({gold}\\right)")
    if "\\sqrt{" in gold:
        add("sqrt_changed", re.sub(r"\\sqrt\{(\d+)\}", lambda m: f"\\sqrt{{{int(m[1]) + 1}}}",
                                   gold, count=1))
    return forms
