"""The miniarith task: short word problems with named quantities, and the two behaviours of
its solutions. A careful solution works step by step, restating each change before computing it
("Step by step: start 13 . sells 8 , 13 - 8 = 5 . finds 7 , 5 + 7 = 12 .") and is right; a guess
writes a number straight away and is right only GUESS_RIGHT of the time.
The corpus mixes both, so a model pretrained on it starts either way; RL should prefer working.
"""

import random
import re

# The prompt every model sees (and `./rast demo` renders through the run path: the same string).
PROMPT = "Question: {input}\nAnswer:"

NAMES = ["Tom", "Anna", "Sam", "Lily", "Ben", "Maria", "Max", "Zoe", "Leo", "Mia", "Omar", "Ivy"]
HE = {"Tom", "Sam", "Ben", "Max", "Leo", "Omar"}
ITEMS = ["apples", "eggs", "books", "pencils", "cookies", "stamps", "marbles", "cards"]
# (verb phrase, sign): each moves the count by a small amount.
GAINS = ["buys {n} more", "finds {n} more", "gets {n} more", "makes {n} more"]
LOSSES = ["gives away {n}", "eats {n}", "loses {n}", "sells {n}"]

MAX_COUNT = 25  # every intermediate count stays in 0..MAX_COUNT
MAX_STEP = 6  # each change is 1..MAX_STEP
GUESS_RIGHT = 0.25  # share of guesses that happen to be right
STEP_SHARE = 0.5  # share of corpus solutions that work step by step


def make_problem(rng: random.Random) -> dict:
    """One problem: a start count and 2-3 changes, with every intermediate count in range."""
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    count = rng.randint(3, 15)
    start = count
    sentences, steps = [], []
    for _ in range(rng.randint(2, 3)):
        n = rng.randint(1, MAX_STEP)
        gain = count - n < 0 or (count + n <= MAX_COUNT and rng.random() < 0.5)
        verb = rng.choice(GAINS if gain else LOSSES).format(n=n)
        after = count + n if gain else count - n
        # The careful working restates each change before computing it ("sells 8 , 13 - 8 = 5").
        said = verb.removesuffix(" more")
        steps.append(f"{said} , {count} {'+' if gain else '-'} {n} = {after}")
        sentences.append(f"Then {'he' if name in HE else 'she'} {verb}.")
        count = after
    question = f"{name} has {start} {item}. " + " ".join(sentences) + f" How many {item} now?"
    return {"question": question, "answer": str(count), "steps": steps}


def careful_solution(problem: dict) -> str:
    """The step-by-step working, always right."""
    work = " ".join(f"{s} ." for s in problem["steps"])
    start = problem["question"].split(" ")[2]
    return f" Step by step: start {start} . {work} The answer is \\boxed{{{problem['answer']}}}."


def guessed_solution(problem: dict, rng: random.Random) -> str:
    """A direct guess: the true count GUESS_RIGHT of the time, else a nearby wrong one."""
    truth = int(problem["answer"])
    guess = truth
    if rng.random() >= GUESS_RIGHT:
        offsets = [d for d in range(-4, 5) if d != 0 and truth + d >= 0]
        guess = truth + rng.choice(offsets)
    return f" The answer is \\boxed{{{guess}}}."


def corpus_solution(problem: dict, rng: random.Random) -> str:
    """A corpus solution: careful STEP_SHARE of the time, else a guess."""
    if rng.random() < STEP_SHARE:
        return careful_solution(problem)
    return guessed_solution(problem, rng)


def prompt_of(question: str) -> str:
    return PROMPT.replace("{input}", question)


LAST_NUMBER = re.compile(r"-?\d*\.?\d+")


def extract(completion: str) -> str:
    """The answer as the grader (datasets/grading/extract.ts, the authors' harness) reads it: the
    last \\boxed{} (brace-matched), else what follows "he answer is", else the last number."""
    if "boxed" in completion:
        rest = completion[completion.rindex("boxed") + len("boxed"):]
        if not rest.startswith("{"):
            return rest.split("$")[0].strip()
        depth, out = 1, ""
        for c in rest[1:]:
            depth += (c == "{") - (c == "}")
            if depth == 0:
                break
            out += c
        pred = out
    elif "he answer is" in completion:
        pred = completion.split("he answer is")[-1].strip()
    else:
        numbers = LAST_NUMBER.findall(completion.replace(",", ""))
        pred = numbers[-1] if numbers else ""
    pred = re.sub(r"\n\s*", "", pred).strip()
    if pred.startswith(":"):
        pred = pred[1:]
    for tail in ".", "/":
        if pred.endswith(tail):
            pred = pred[:-1]
    return pred.strip()


def reward(completion: str, answer: str) -> float:
    """1 when the extracted answer equals the integer gold, else 0 (the grader's verdict on this
    task; test/miniarith_test.ts checks the two agree on test/miniarith_reference.json)."""
    try:
        return 1.0 if abs(float(extract(completion)) - int(answer)) < 1e-9 else 0.0
    except ValueError:
        return 0.0


def problems(seed: int, count: int, exclude: set[str] = frozenset()) -> list[dict]:
    """`count` distinct problems from `seed`, none of whose questions is in `exclude`."""
    rng = random.Random(seed)
    out, seen = [], set(exclude)
    while len(out) < count:
        p = make_problem(rng)
        if p["question"] in seen:
            continue
        seen.add(p["question"])
        out.append(p)
    return out
