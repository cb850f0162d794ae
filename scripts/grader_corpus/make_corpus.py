#!/usr/bin/env python3
"""Build the grader agreement corpus: synthetic model outputs for every gold answer of the six
benchmark test sets, in restated forms (fraction vs decimal, \\dfrac, spacing, \\left( \\right),
units and text, percentages, reordered tuples and sums, dropped "x =", ...) and deliberately
wrong forms (off by one, sign flip, reciprocal, swapped tuple, other interval ends, ...), each
wrapped in one of the answer styles models write (a boxed line, a box inside prose, "The
answer is", Minerva's "final answer is $...$. I hope", a corrected second box, the last number).

The corpus says nothing about which verdict is right: harness_verdicts.py asks the authors'
harness, and test/grade_corpus_test.ts checks that rast's grader agrees with it.

Standard library only; deterministic (each row's cases come from a Random seeded with the
dataset name and row index, and the gzip header carries no time stamp). Rerun from the
repository root with:

    python3 scripts/grader_corpus/make_corpus.py [--data datasets] \\
        [--out test/data/grader_corpus.jsonl.gz]

Each line: {"id", "dataset", "index" (row in <data>/<name>/test.jsonl), "kind" ("<answer
form>/<output style>"), "gold" (the row's raw gold answer, as rast's dataset registry reads it),
"output" (the model-style text)}.
"""

import argparse
import gzip
import json
import random
from pathlib import Path

from forms import numeric_value, restated_forms, wrong_forms

DATASETS = ["math500", "minerva_math", "olympiadbench", "aime24", "amc23", "gsm8k"]
# restated and wrong forms kept per gold answer (gsm8k's 1319 integer golds get fewer)
PER_ROW = {"gsm8k": (2, 2)}
DEFAULT_PER_ROW = (3, 3)

REASONING = [
    "Let me set up the problem carefully and track each quantity.",
    "We start by writing down what is given and what we need to find.",
    "First, simplify the expression step by step.",
    "Consider the two cases separately and combine them at the end.",
    "Substituting the values we found back into the equation confirms the computation.",
    "Using the formula from the previous step, we can finish the calculation.",
]
CHECKS = [
    "Checking: 3 + 4 = 7, which is consistent with the condition above.",
    "Double-checking the arithmetic, 12 times 5 is 60, so nothing changes.",
    "Wait, let me verify the sign once more; it is correct.",
    "",
]


def last_boxed(text):
    """The text after the last "boxed": brace-matched, or up to the next "$" (None if absent)."""
    at = text.rfind("boxed")
    if at < 0:
        return None
    rest = text[at + len("boxed"):]
    if not rest.startswith("{"):
        return rest.split("$")[0].strip()
    depth, out = 1, []
    for c in rest[1:]:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                break
        out.append(c)
    return "".join(out)


def raw_gold(name, row):
    """The row's gold answer before normalisation (datasets/mod.ts reads the same fields)."""
    if name in ("math500", "minerva_math"):
        return last_boxed(row["solution"])
    if name == "olympiadbench":
        return str(row["final_answer"][0]).strip("$")
    if name == "gsm8k":
        return row["answer"].split("####")[1]
    return str(row["answer"])  # aime24, amc23: Python's str (27.0 stays "27.0")


def wrap(answer, style, rng, other):
    """A model-style output that ends with `answer` in the given style."""
    reason = rng.choice(REASONING) + " " + rng.choice(CHECKS)
    if style == "boxed":
        return f"{reason}\n\nTherefore, the final answer is $\\boxed{{{answer}}}$."
    if style == "boxed_prose":
        return f"{reason} This gives \\boxed{{{answer}}} as the value we want, as required."
    if style == "display":
        return f"{reason}\n\\[\n\\boxed{{{answer}}}\n\\]"
    if style == "answer_is":
        return f"{reason}\nThe answer is {answer}."
    if style == "minerva":
        return f"{reason}\nFinal Answer: The final answer is ${answer}$. I hope it is correct."
    if style == "corrected":
        return (f"At first I got $\\boxed{{{other}}}$, but that misses a case. {reason}\n"
                f"Corrected: $\\boxed{{{answer}}}$.")
    if style == "boxed_bare":
        return f"{reason} The result is $\\boxed {answer}$."
    if style == "last_number":
        return f"{reason} So the total comes to {answer} after all"
    if style == "stop_string":
        return (f"{reason}\n\nThe final answer is $\\boxed{{{answer}}}$.<|im_end|>\n"
                f"<|im_start|>user\nNext question: the answer is $\\boxed{{{other}}}$")
    raise ValueError(f"unknown style {style}")


def styles_for(answer):
    """The output styles that can carry `answer` (bare boxes and last numbers need plain text)."""
    styles = ["boxed", "boxed", "boxed_prose", "display", "answer_is", "minerva", "corrected",
              "stop_string"]
    if answer and " " not in answer and "{" not in answer and "$" not in answer:
        styles.append("boxed_bare")
    if numeric_value(answer) is not None and "," not in answer:
        styles += ["last_number", "last_number"]
    return styles


def row_cases(name, index, gold, rng, other_gold):
    """(kind, output) pairs for one gold answer."""
    n_restated, n_wrong = PER_ROW.get(name, DEFAULT_PER_ROW)
    gold = gold.strip()
    restated = restated_forms(gold, name)
    wrong = [w for w in wrong_forms(gold, rng) if w[1] != gold]
    if other_gold.strip() != gold:
        wrong.append(("other_gold", other_gold.strip()))
    picked = [("exact", gold)]
    picked += rng.sample(restated, min(n_restated, len(restated)))
    picked += rng.sample(wrong, min(n_wrong, len(wrong)))
    cases = []
    seen = set()
    for form, answer in picked:
        style = rng.choice(styles_for(answer))
        key = (answer, style)
        if key in seen:
            continue
        seen.add(key)
        other = str(rng.randint(2, 999))
        cases.append((f"{form}/{style}", wrap(answer, style, rng, other)))
    if index % 10 == 0:
        # an output that stops before any answer: the harness extracts the last number or ""
        reason = rng.choice(REASONING)
        cases.append(("no_answer/truncated", f"{reason} Now we need to compute the"))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="datasets", help="folder of <name>/test.jsonl")
    ap.add_argument("--out", default="test/data/grader_corpus.jsonl.gz")
    args = ap.parse_args()
    lines = []
    for name in DATASETS:
        path = Path(args.data) / name / "test.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]
        golds = [raw_gold(name, row) for row in rows]
        for index, gold in enumerate(golds):
            if gold is None:
                raise SystemExit(f"{path}:{index + 1}: the solution has no \\boxed answer")
            rng = random.Random(f"{name}:{index}")
            other_gold = golds[(index * 7 + 13) % len(golds)]
            for kind, output in row_cases(name, index, gold, rng, other_gold):
                lines.append({"id": len(lines), "dataset": name, "index": index, "kind": kind,
                              "gold": gold, "output": output})
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode("utf-8")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="",
                                                    mtime=0, compresslevel=9) as out:
        out.write(data)
    print(f"wrote {len(lines)} cases to {args.out}")


if __name__ == "__main__":
    main()
