"""The Hugging Face transformers baseline of `rast bench --device cuda:N`, on the same card, at
the same shapes: the bench writes each shape's config.json under <dir>/<name>/ and this script
builds the same models from them, random weights on the GPU in bfloat16 (no download).

Two loops per batch size, timed over `--steps` decode steps from a context of `--context` tokens:
- "trio": the plain RAST loop, three forward passes with one DynamicCache per model, combine
  base + (pos - neg), temperature 1 and top-p 0.95 as transformers' TopPLogitsWarper samples;
- "base": the base alone through model.generate (sampling, top-p 0.95, eos never stops it).
Prints one JSON object: {"rows": [{"models", "batch", "msPerStep", "tokensPerSecond"}, ...]}.

    python3 scripts/vs_transformers/gpu_baseline.py --dir ~/.cache/rast/bench-shapes \
        --base Qwen2.5-14B --pair Qwen2.5-1.5B --batches 1,8,32
"""
import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, DynamicCache


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def load(folder: Path, device: str):
    config = AutoConfig.from_pretrained(folder)
    with torch.device(device):
        try:
            model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        except TypeError:  # transformers before 4.56 calls it torch_dtype
            model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.bfloat16)
    return model.eval()


def top_p_sample(z: torch.Tensor, top_p: float) -> torch.Tensor:
    """transformers' TopPLogitsWarper (sort, cumulative mass, mask) then multinomial."""
    sorted_logits, order = torch.sort(z, descending=False)
    cumulative = sorted_logits.softmax(-1).cumsum(-1)
    remove = cumulative <= (1 - top_p)
    remove[..., -1:] = False
    z = z.masked_fill(remove.scatter(1, order, remove), float("-inf"))
    return torch.multinomial(z.softmax(-1), 1).squeeze(1)


@torch.inference_mode()
def trio_loop(models, batch: int, context: int, steps: int, device: str) -> float:
    ids = torch.randint(0, 4096, (batch, context), device=device)
    caches = [DynamicCache() for _ in models]
    inputs, stamps = ids, []
    for _ in range(steps + 1):
        # logits_to_keep=1: the prefill's logits of the last position only, as generate does
        logits = [m(input_ids=inputs, past_key_values=c, use_cache=True, logits_to_keep=1)
                  .logits[:, -1].float() for m, c in zip(models, caches)]
        v = min(x.size(-1) for x in logits)
        z = logits[0][:, :v] + (logits[1][:, :v] - logits[2][:, :v])
        inputs = top_p_sample(z, 0.95)[:, None]
        sync(device)
        stamps.append(time.perf_counter())
    return statistics.median(1000 * (b - a) for a, b in zip(stamps, stamps[1:]))


@torch.inference_mode()
def generate_loop(model, batch: int, context: int, steps: int, device: str) -> float:
    """ms per decode step of model.generate: two runs of different lengths, the prefill and the
    set-up cancel in their difference (after an untimed warm-up)."""
    ids = torch.randint(0, 4096, (batch, context), device=device)
    kwargs = dict(do_sample=True, top_p=0.95, temperature=1.0, pad_token_id=0, eos_token_id=None)

    def timed(new_tokens: int) -> float:
        sync(device)
        t0 = time.perf_counter()
        model.generate(ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, **kwargs)
        sync(device)
        return time.perf_counter() - t0

    timed(2)
    short, long = timed(2), timed(steps + 2)
    return 1000 * (long - short) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", type=Path, required=True, help="the bench's folder of config.json files")
    p.add_argument("--base", default="Qwen2.5-14B")
    p.add_argument("--pair", default="Qwen2.5-1.5B")
    p.add_argument("--batches", default="1,8,32")
    p.add_argument("--context", type=int, default=512)
    p.add_argument("--steps", type=int, default=16)
    p.add_argument("--device", default="cuda:0")
    a = p.parse_args()
    base = load(a.dir / a.base, a.device)
    pos, neg = load(a.dir / a.pair, a.device), load(a.dir / a.pair, a.device)
    rows = []
    for batch in (int(b) for b in a.batches.split(",")):
        try:
            for name, run in (("base", lambda: generate_loop(base, batch, a.context, a.steps, a.device)),
                              ("trio", lambda: trio_loop([base, pos, neg], batch, a.context, a.steps, a.device))):
                ms = run()
                rows.append({"models": name, "batch": batch, "msPerStep": ms,
                             "tokensPerSecond": batch / (ms / 1000)})
                print(f"transformers {name} batch {batch}: {ms:.2f} ms/step", flush=True)
        except torch.OutOfMemoryError:
            print(f"transformers batch {batch}: out of memory", flush=True)
            break
        finally:
            if a.device.startswith("cuda"):
                torch.cuda.empty_cache()
    print(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()
