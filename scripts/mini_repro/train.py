"""Trains the miniarith trio from scratch and writes it, with the held-out test set, into
datasets/miniarith/. Deterministic from --seed. Run from the repository root:

    /path/to/venv/bin/python scripts/mini_repro/train.py

Pinned: torch 2.13.0 (CPU), transformers 5.17.0, tokenizers 0.23.2, safetensors 0.8.0
(pip install torch==2.13.0 transformers==5.17.0 tokenizers==0.23.2 safetensors==0.8.0).
"""

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

sys.path.insert(0, str(Path(__file__).parent))
import lm  # noqa: E402
import task  # noqa: E402
import tokenizer as tokenizers_  # noqa: E402
from pretrain import pretrain  # noqa: E402
from rl import reinforce  # noqa: E402

TEST_SIZE = 300
CORPUS_SIZE = 8000
RL_POOL = 4000
MAX_NEW = 64


def save(model, tok, out: Path) -> None:
    """bf16 safetensors + config + tokenizer files: a Hugging Face model folder."""
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.to(torch.bfloat16).save_pretrained(tmp, safe_serialization=True)
    model.to(torch.float32)
    tok.save(str(tmp / "tokenizer.json"))
    (tmp / "tokenizer_config.json").write_text(
        json.dumps(tokenizers_.tokenizer_config(), indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def quick_eval(model, tok, eos: int, test: list[dict], label: str, seed: int) -> None:
    """One sample per question: accuracy and the share of careful starts (a sanity print only;
    the table comes from `./rast demo --table`)."""
    g = torch.Generator().manual_seed(seed)
    prompts = [tok.encode(task.prompt_of(p["question"])).ids for p in test]
    outs = [tok.decode(c) for c in lm.sample(model, prompts, eos, MAX_NEW, g)]
    acc = sum(task.reward(o, p["answer"]) for o, p in zip(outs, test)) / len(test)
    careful = sum(o.startswith(" Step") for o in outs) / len(outs)
    print(f"[eval] {label}: accuracy {acc:.3f}, careful starts {careful:.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="datasets/miniarith")
    ap.add_argument("--only", choices=["base", "small", "rl"],
                    help="train only the base, only the negative and positive (independent of "
                         "the base: run both at once on two cores), or only the RL of the saved "
                         "negative into the positive")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    began = time.time()
    out = Path(args.out)

    test = task.problems(args.seed + 1, TEST_SIZE)
    held_out = {p["question"] for p in test}
    corpus = task.problems(args.seed + 2, CORPUS_SIZE, exclude=held_out)
    pool = task.problems(args.seed + 3, RL_POOL, exclude=held_out)
    rng = random.Random(args.seed + 4)
    solutions = [task.corpus_solution(p, rng) for p in corpus]
    prompts = [task.prompt_of(p["question"]) for p in corpus]

    tok = tokenizers_.train_tokenizer([p + s for p, s in zip(prompts, solutions)])
    eos, vocab = tok.token_to_id(tokenizers_.EOS), tok.get_vocab_size()
    docs = [(tok.encode(p).ids, tok.encode(s).ids + [eos]) for p, s in zip(prompts, solutions)]
    print(f"vocab {vocab}; {len(docs)} corpus documents; careful share "
          f"{sum(s.startswith(' Step') for s in solutions) / len(solutions):.2f}", flush=True)

    models = out / "models"
    models.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "base"):
        base = lm.build_model("base", vocab, eos, args.seed + 10)
        pretrain(base, docs, eos, epochs=3, batch=64, lr=2e-3, seed=args.seed + 11, label="base")
        save(base, tok, models / "base")
        quick_eval(base, tok, eos, test[:100], "base", args.seed + 30)
    if args.only == "base":
        print(f"done in {time.time() - began:.0f}s", flush=True)
        return
    if args.only != "rl":
        small = lm.build_model("small", vocab, eos, args.seed + 20)
        # Five epochs, not the base's three: at three (loss 0.17) the small model's careful
        # working was right about a quarter of the time, no better than its guesses, so RL had
        # nothing to reward; at five (loss 0.10) careful working pays and RL moves to it.
        pretrain(small, docs, eos, epochs=5, batch=64, lr=3e-3, seed=args.seed + 21,
                 label="small")
        save(small, tok, models / "negative")
        quick_eval(small, tok, eos, test[:100], "negative", args.seed + 30)
    # RL starts from the shipped (bf16) negative, so positive − negative is exactly RL's delta.
    small = AutoModelForCausalLM.from_pretrained(models / "negative", dtype=torch.float32).eval()

    rl_problems = [{"prompt": task.prompt_of(p["question"]), "answer": p["answer"]} for p in pool]
    reinforce(small, rl_problems, lambda t: tok.encode(t).ids, tok.decode, eos, steps=40,
              questions=32, group=8, lr=3e-4, kl=0.1, seed=args.seed + 40, max_new=MAX_NEW)
    save(small, tok, models / "positive")
    quick_eval(small, tok, eos, test[:100], "positive", args.seed + 30)

    with open(out / "test.jsonl", "w") as f:
        for p in test:
            f.write(json.dumps({"question": p["question"], "answer": p["answer"]}) + "\n")
    print(f"done in {time.time() - began:.0f}s", flush=True)


if __name__ == "__main__":
    main()
