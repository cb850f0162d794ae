#!/usr/bin/env python3
"""Grade the grader corpus with the authors' harness and write its verdicts as data.

The harness is the Qwen2.5-Math evaluation the RAST authors ran, as shipped in
hkust-nlp/simpleRL-reason at commit cf1c7858bfc145a27aa733e75d930d34f0d318a6, folder
examples/simplelr_math_eval/: parser.py (extract_answer, strip_string, parse_ground_truth,
run_execute), grader.py (math_equal), latex2sympy/ (latex2sympy2.py and its antlr 4.11.1
generated gen/), with utils.py and examples.py that parser.py imports. It is not part of this
repository: check that folder out elsewhere and pass it as --harness. Its imports need sympy,
regex, numpy, word2number and antlr4-python3-runtime 4.11.x (sympy's parse_latex refuses any
other antlr runtime, and the harness then silently falls back to parse_expr). The committed
verdicts were made with Python 3.11.7, sympy 1.14.0 (the authors pinned 1.12; no 1.12 wheel
was at hand), antlr4-python3-runtime 4.11.1 (built from the antlr4 tag v4.11.1), word2number
1.1, regex 2026.9.29, numpy 2.4.6; the versions in use are written to the provenance file.

A set-up that reproduces the committed file (no pip wheel of antlr 4.11 or word2number was at
hand, so both were installed from their sources):
    python3 -m venv /work/harness/venv
    /work/harness/venv/bin/pip install sympy regex numpy setuptools wheel
    git -C antlr4 archive v4.11.1 runtime/Python3 | tar -x    # github.com/antlr/antlr4
    /work/harness/venv/bin/pip install --no-build-isolation ./runtime/Python3 ./w2n
    # w2n: github.com/akshaynagpal/w2n at 33aac8a1 (word2number 1.1)
then run this script with /work/harness/venv/bin/python.

Each case goes through the harness's own pipeline, as math_eval.py and evaluate.py run it:
the gold from parse_ground_truth on the dataset row, then again on {gt_cot, gt} as evaluate()
does; the output stripped and cut at the stop words of the qwen prompt types, run_execute
(extract_answer, strip_string), math_eval's multiple-choice fix-ups, then math_equal in a
separate process killed after 3 s (evaluate() runs it in pebble's ProcessPool, timeout=3,
and counts a timeout as incorrect). The 3 s are the worker's CPU time, so that a loaded machine
does not time out comparisons an idle one finishes (a 60 s wall-clock limit backs it up).

    python3 scripts/grader_corpus/harness_verdicts.py --harness /path/to/simplelr_math_eval \\
        [--data datasets] [--corpus test/data/grader_corpus.jsonl.gz] \\
        [--out test/data/grader_verdicts.jsonl.gz] [--workers 2]

Writes one line per case, {"id", "gold", "pred" (null where run_execute returns None),
"correct", "timeout"}, and test/data/grader_harness.json with the provenance and counts.
Timing still depends on the machine: a comparison that takes close to 3 s can fall either side.
"""

import argparse
import gzip
import hashlib
import importlib.metadata
import json
import multiprocessing as mp
import os
import platform
import sys
import time
from multiprocessing.connection import wait
from pathlib import Path

HARNESS_REPO = "hkust-nlp/simpleRL-reason"
HARNESS_COMMIT = "cf1c7858bfc145a27aa733e75d930d34f0d318a6"
HARNESS_FILES = ["parser.py", "grader.py", "utils.py", "examples.py",
                 "latex2sympy/latex2sympy2.py", "latex2sympy/gen/PSParser.py",
                 "latex2sympy/gen/PSLexer.py"]
# math_eval.py's stop words for prompt types containing "qwen" (rast's DEFAULT_STOP_STRINGS)
STOP_WORDS = ["</s>", "<|im_end|>", "<|endoftext|>", "assistant", "user", "_end", "_start"]
LETTERS = ["A", "B", "C", "D", "E"]
TIMEOUT_S = 3.0
# the limit counts the worker's CPU time, which on an idle machine is its wall time: on a shared
# machine wall time would time out comparisons the authors' runs finished
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WALL_LIMIT_S = 60.0


def load_harness(folder):
    sys.path[:0] = [str(folder), str(folder / "latex2sympy")]
    import grader  # noqa: PLC0415 (the harness is only known at run time)
    import parser as harness_parser  # noqa: PLC0415
    return grader, harness_parser


def is_multi_choice(answer):
    return all(c in LETTERS for c in answer)


def prediction(hp, output, gold, dataset):
    """The prediction math_eval.py hands to evaluate() for one output."""
    code = output.strip()
    for stop in STOP_WORDS:
        if stop in code:
            code = code.split(stop)[0].strip()
    pred, _ = hp.run_execute(None, code, "qwen25-math-cot", dataset)
    if gold in LETTERS and pred not in LETTERS:
        pred = hp.choice_answer_clean(code)
    elif pred is not None and is_multi_choice(gold) and not is_multi_choice(pred):
        pred = "".join(c for c in pred if c in LETTERS)
    return pred


def worker(conn, folder):
    grader, _ = load_harness(folder)
    conn.send("ready")
    while True:
        pred, gold = conn.recv()
        try:
            conn.send(bool(grader.math_equal_process((0, pred, gold))))
        except Exception:  # noqa: BLE001 (evaluate() would stop; record it as incorrect)
            conn.send(False)


class Pool:
    """Processes that each run one math_equal at a time; one that overruns is killed."""

    def __init__(self, size, folder):
        self.folder = folder
        self.slots = [self.spawn() for _ in range(size)]

    def spawn(self):
        ours, theirs = mp.Pipe()
        proc = mp.Process(target=worker, args=(theirs, self.folder), daemon=True)
        proc.start()
        assert ours.recv() == "ready"
        return {"proc": proc, "conn": ours, "task": None, "since": 0.0, "cpu": 0.0}

    def run(self, tasks):
        """tasks: list of (key, pred, gold); returns {key: (correct, timeout)}."""
        results, queue = {}, list(reversed(tasks))
        while queue or any(s["task"] for s in self.slots):
            for slot in self.slots:
                if slot["task"] is None and queue:
                    slot["task"] = queue.pop()
                    slot["conn"].send(slot["task"][1:])
                    slot["since"] = time.monotonic()
                    slot["cpu"] = cpu_seconds(slot["proc"].pid)
            busy = [s for s in self.slots if s["task"]]
            wait([s["conn"] for s in busy], timeout=0.05)
            for i, slot in enumerate(self.slots):
                if slot["task"] is None:
                    continue
                if slot["conn"].poll():
                    results[slot["task"][0]] = (slot["conn"].recv(), False)
                    slot["task"] = None
                    if len(results) % 1000 == 0:
                        print(f"{len(results)}/{len(tasks)} compared", file=sys.stderr)
                elif (cpu_seconds(slot["proc"].pid) - slot["cpu"] > TIMEOUT_S
                      or time.monotonic() - slot["since"] > WALL_LIMIT_S):
                    results[slot["task"][0]] = (False, True)
                    slot["proc"].kill()
                    slot["proc"].join()
                    self.slots[i] = self.spawn()
        return results


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--harness", required=True, type=Path,
                    help="the simplelr_math_eval folder of hkust-nlp/simpleRL-reason")
    ap.add_argument("--data", default="datasets", type=Path)
    ap.add_argument("--corpus", default="test/data/grader_corpus.jsonl.gz", type=Path)
    ap.add_argument("--out", default="test/data/grader_verdicts.jsonl.gz", type=Path)
    ap.add_argument("--provenance", default="test/data/grader_harness.json", type=Path)
    ap.add_argument("--workers", default=2, type=int)
    args = ap.parse_args()
    if not (args.harness / "grader.py").is_file():
        raise SystemExit(f'"{args.harness}" has no grader.py; pass the simplelr_math_eval folder')
    mp.set_start_method("fork")
    _, hp = load_harness(args.harness)
    cases = [json.loads(line) for line in gzip.open(args.corpus, "rt", encoding="utf-8")]
    golds = {}
    for name in sorted({c["dataset"] for c in cases}):
        path = args.data / name / "test.jsonl"
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        for index, row in enumerate(rows):
            gt_cot, gt = hp.parse_ground_truth(row, name)
            golds[(name, index)] = hp.parse_ground_truth({"gt_cot": gt_cot, "gt": gt}, name)[1]
    preds, tasks = [], []
    for c in cases:
        gold = golds[(c["dataset"], c["index"])]
        pred = prediction(hp, c["output"], gold, c["dataset"])
        preds.append(pred)
        if pred is not None:
            tasks.append((c["id"], pred, gold))
    started = time.monotonic()
    outcomes = Pool(args.workers, args.harness).run(tasks)
    seconds = time.monotonic() - started
    lines = []
    for c, pred in zip(cases, preds):
        correct, timeout = outcomes.get(c["id"], (False, False))
        lines.append({"id": c["id"], "gold": golds[(c["dataset"], c["index"])], "pred": pred,
                      "correct": correct, "timeout": timeout})
    data = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode("utf-8")
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", filename="",
                                                    mtime=0, compresslevel=9) as out:
        out.write(data)
    provenance = {
        "harness": {"repo": HARNESS_REPO, "commit": HARNESS_COMMIT,
                    "folder": "examples/simplelr_math_eval",
                    "sha256": {f: sha256(args.harness / f) for f in HARNESS_FILES}},
        "python": platform.python_version(),
        "packages": {p: importlib.metadata.version(p) for p in
                     ["sympy", "antlr4-python3-runtime", "word2number", "regex", "numpy"]},
        "stop_words": STOP_WORDS,
        "timeout_cpu_s": TIMEOUT_S,
        "cases": len(lines),
        "harness_correct": sum(x["correct"] for x in lines),
        "harness_timeouts": sum(x["timeout"] for x in lines),
        "grading_seconds": round(seconds, 1),
        "workers": args.workers,
    }
    args.provenance.write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    print(f"{len(lines)} cases: {provenance['harness_correct']} correct, "
          f"{provenance['harness_timeouts']} timeouts, {seconds:.0f} s of math_equal")


if __name__ == "__main__":
    main()
