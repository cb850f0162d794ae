"""Writes test/miniarith_reference.json: what the Python reference stack says about the shipped
trio, for the Deno tests to check the engine and the grader against —
  - tokens: Hugging Face tokenizers' ids of a few prompts and solutions;
  - logits: transformers' float32 logits (bf16 weights upcast) at the last prompt position;
  - rewards: the RL reward (task.reward) of hand-picked completions, which the grader must match.
Run from the repository root after train.py: python scripts/mini_repro/reference.py
"""

import json
import sys
from pathlib import Path

import torch
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM

sys.path.insert(0, str(Path(__file__).parent))
import task  # noqa: E402

ROOT = Path("datasets/miniarith")
COMPLETIONS = [
    (" Step by step: 13 - 8 = 5 . 5 + 7 = 12 . The answer is \\boxed{12}.", "12"),
    (" The answer is \\boxed{15}.", "12"),
    (" The answer is \\boxed{ 7 }.", "7"),
    (" Step by step: 5 + 2 = 7 . The answer is \\boxed{7} or \\boxed{8}.", "7"),
    (" Step by step: 5 + 2 = 7 . The answer is \\boxed{8} or \\boxed{7}.", "7"),
    (" The answer is 7.", "7"),
    (" The answer is \\boxed{}.", "0"),
    (" The answer is \\boxed{07}.", "7"),
    (" The answer is \\boxed{0}.", "0"),
    (" The answer is \\boxed{x}.", "3"),
]


def main() -> None:
    torch.set_num_threads(1)
    tok = Tokenizer.from_file(str(ROOT / "models" / "base" / "tokenizer.json"))
    rows = [json.loads(line) for line in (ROOT / "test.jsonl").read_text().splitlines()[:4]]
    prompts = [task.prompt_of(r["question"]) for r in rows]
    texts = prompts + [c for c, _ in COMPLETIONS[:3]]
    out = {
        "tokens": [{"text": t, "ids": tok.encode(t).ids} for t in texts],
        "logits": {},
        "rewards": [{"completion": c, "answer": a, "reward": task.reward(c, a)}
                    for c, a in COMPLETIONS],
    }
    for name in ("base", "negative", "positive"):
        model = AutoModelForCausalLM.from_pretrained(ROOT / "models" / name,
                                                     dtype=torch.float32).eval()
        cases = []
        for p in prompts[:2]:
            ids = tok.encode(p).ids
            with torch.no_grad():
                logits = model(torch.tensor([ids])).logits[0, -1]
            cases.append({"ids": ids, "lastLogits": [round(x, 6) for x in logits.tolist()]})
        out["logits"][name] = cases
    Path("test/miniarith_reference.json").write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
