"""The two model sizes (Qwen2 architecture), batching, sampling with a KV cache, and token
log-probabilities: what pretraining, RL and evaluation share."""

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

# Base: ~0.9M parameters. Small (negative, then positive): ~0.3M. Sized for one shared CPU core.
SHAPES = {
    "base": dict(hidden_size=160, num_hidden_layers=3, num_attention_heads=4,
                 num_key_value_heads=2, intermediate_size=448, tie_word_embeddings=False),
    "small": dict(hidden_size=96, num_hidden_layers=3, num_attention_heads=4,
                  num_key_value_heads=2, intermediate_size=256, tie_word_embeddings=True),
}


def build_model(size: str, vocab: int, eos: int, seed: int) -> Qwen2ForCausalLM:
    torch.manual_seed(seed)
    shape = SHAPES[size]
    config = Qwen2Config(
        vocab_size=vocab, max_position_embeddings=256, rope_theta=10000.0, rms_norm_eps=1e-6,
        bos_token_id=eos, eos_token_id=eos, pad_token_id=eos, use_sliding_window=False,
        head_dim=shape["hidden_size"] // shape["num_attention_heads"], **shape,
    )
    return Qwen2ForCausalLM(config)


def left_padded(seqs: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """ids, mask: [B, L], sequences right-aligned (so every last token is at L - 1)."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, width - len(s):] = torch.tensor(s)
        mask[i, width - len(s):] = 1
    return ids, mask


def positions(mask: torch.Tensor) -> torch.Tensor:
    return (mask.cumsum(-1) - 1).clamp(min=0)


@torch.no_grad()
def sample(model, prompts: list[list[int]], eos: int, max_new: int,
           generator: torch.Generator) -> list[list[int]]:
    """Temperature-1 samples (full softmax), one per prompt, each ending at eos or max_new."""
    ids, mask = left_padded(prompts, eos)
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=True)
    cache, logits = out.past_key_values, out.logits[:, -1]
    pos = positions(mask)[:, -1]
    done = torch.zeros(len(prompts), dtype=torch.bool)
    new: list[torch.Tensor] = []
    for _ in range(max_new):
        probs = torch.softmax(logits.float(), -1)
        token = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        token = torch.where(done, torch.full_like(token, eos), token)
        new.append(token)
        done |= token == eos
        if bool(done.all()):
            break
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], 1)
        pos = pos + 1
        out = model(input_ids=token[:, None], attention_mask=mask, position_ids=pos[:, None],
                    past_key_values=cache, use_cache=True)
        cache, logits = out.past_key_values, out.logits[:, -1]
    rows = torch.stack(new, 1).tolist()
    return [r[: r.index(eos) + 1] if eos in r else r for r in rows]


def completion_logprobs(model, prompts: list[list[int]], completions: list[list[int]],
                        eos: int) -> tuple[torch.Tensor, torch.Tensor]:
    """log p(token) of each completion token and a mask of them: both [B, C]."""
    seqs = [p + c for p, c in zip(prompts, completions)]
    ids, mask = left_padded(seqs, eos)
    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions(mask)).logits
    logp = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    target = torch.zeros_like(logp)
    width = ids.shape[1]
    for i, c in enumerate(completions):
        target[i, width - 1 - len(c):] = 1.0
    return logp, target
