"""Pretraining on the corpus: next-token loss on each solution given its question (the question
itself is random names and numbers, nothing to learn), AdamW with warmup and cosine decay."""

import math
import random
import time

import torch

from lm import completion_logprobs


def pretrain(model, docs: list[tuple[list[int], list[int]]], eos: int, *, epochs: int,
             batch: int, lr: float, seed: int, label: str) -> None:
    """docs: (prompt ids, solution ids ending in eos) pairs."""
    rng = random.Random(seed)
    steps = epochs * math.ceil(len(docs) / batch)
    warmup = max(1, steps // 20)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * s / steps)))
    model.train()
    start, step, recent = time.time(), 0, []
    for _ in range(epochs):
        order = list(range(len(docs)))
        rng.shuffle(order)
        for i in range(0, len(order), batch):
            chunk = [docs[j] for j in order[i:i + batch]]
            logp, target = completion_logprobs(model, [p for p, _ in chunk],
                                               [s for _, s in chunk], eos)
            loss = -(logp * target).sum() / target.sum()
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            recent = (recent + [loss.item()])[-50:]
            if step % 100 == 0 or step == steps:
                print(f"[{label}] step {step}/{steps} loss {sum(recent) / len(recent):.3f} "
                      f"({time.time() - start:.0f}s)", flush=True)
    model.eval()
