"""Reinforcement learning of the small model on training problems: GRPO-style policy gradient
with the group's mean reward as the baseline, optionally scaled by the group's std, a per-token
KL penalty to the starting model (without it the policy drifted to guessing every time: the
small model's careful working is right only a quarter of the time, so the reward's signal is
weak beside the sampling noise), and one update per batch.
The reward is the grader's correct/incorrect on the sampled completion; no trace is imitated."""

import copy
import random
import time

import torch

from lm import completion_logprobs, sample
from task import reward


def reinforce(model, problems: list[dict], encode, decode, eos: int, *, steps: int,
              questions: int, group: int, lr: float, seed: int, max_new: int,
              scale_by_std: bool = True, kl: float = 0.0) -> None:
    """problems: dicts with "prompt" and "answer"; encode/decode: text <-> ids."""
    rng = random.Random(seed)
    generator = torch.Generator().manual_seed(seed)
    reference = copy.deepcopy(model).eval() if kl > 0 else None
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0, betas=(0.9, 0.98))
    start = time.time()
    for step in range(1, steps + 1):
        chosen = rng.sample(problems, questions)
        prompts = [encode(p["prompt"]) for p in chosen for _ in range(group)]
        model.eval()
        completions = sample(model, prompts, eos, max_new, generator)
        rewards = torch.tensor([
            reward(decode(c), p["answer"])
            for p, c in zip([p for p in chosen for _ in range(group)], completions)
        ]).view(questions, group)
        advantage = rewards - rewards.mean(1, keepdim=True)
        if scale_by_std:
            advantage = advantage / (rewards.std(1, keepdim=True) + 1e-4)
        advantage = advantage.view(-1)
        model.train()
        logp, target = completion_logprobs(model, prompts, completions, eos)
        per_token = -advantage[:, None] * logp
        if reference is not None:
            with torch.no_grad():
                ref_logp, _ = completion_logprobs(reference, prompts, completions, eos)
            # k3 estimator of KL(policy || reference) on the sampled tokens (as in GRPO).
            ratio = torch.exp(ref_logp - logp)
            per_token = per_token + kl * (ratio - (ref_logp - logp) - 1)
        loss = (per_token * target).sum() / target.sum()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 10 == 0 or step == 1:
            careful = sum(decode(c).startswith(" Step") for c in completions) / len(completions)
            print(f"[rl] step {step}/{steps} reward {rewards.mean():.3f} careful {careful:.2f} "
                  f"({time.time() - start:.0f}s)", flush=True)
    model.eval()
