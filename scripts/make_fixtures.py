#!/usr/bin/env python3
"""Make the engine's test fixtures: tiny random Hugging Face checkpoints, transformers' references.

Written for and run with torch 2.13.0+cpu, transformers 5.17.0 and safetensors 0.8.0; the versions
that made the committed files are in test/fixtures/tiny/MANIFEST.json. Seeded and CPU-only, so a
rerun writes byte-identical checkpoints and the same references.

    python scripts/make_fixtures.py            # rewrite test/fixtures/tiny/
    python scripts/make_fixtures.py --check    # regenerate in a temp folder, exit 1 if it differs
    python scripts/make_fixtures.py --out DIR  # write somewhere else

`python` is one with torch, transformers and safetensors (CPU wheels are enough), e.g. a venv:
`python3 -m venv .venv && .venv/bin/pip install torch transformers safetensors`. A venv keeps
torch away from the system python3, whose torch ./rast would otherwise build against. The test
test/fixture_generator_test.ts runs --check with RAST_FIXTURE_PYTHON (else python3). Only tests
read the output; nothing in rast imports Python.

What it writes (test/fixtures/README.md describes the files for their readers):
- base/   Qwen2, hidden 128, 4 layers, 4 heads / 2 KV heads, vocab 1280, untied, four bf16 shards
- pos/, neg/  Qwen2, hidden 64, 2 layers, vocab 1152, tied embeddings; pos = neg + a perturbation
- llama3/ Llama, hidden 96, 3 layers, 6 heads / 2 KV, vocab 1024, untied, llama3 rope scaling
- qwen3/  Qwen3, hidden 64, head_dim 32, q/k norms, tied
- reference.safetensors (the trio) and llama3/, qwen3/ reference.safetensors: float32 logits of
  every prompt position computed from the bf16 weights with eager attention, 24 greedy ids, and
  for the trio the RAST combination base[:1152] + alpha * (pos - neg) at alpha 1.0 and 0.5.
"""
import argparse
import filecmp
import json
import shutil
import sys
import tempfile
from pathlib import Path

import safetensors
import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import (AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "test" / "fixtures" / "tiny"
PROMPTS = [[5, 17, 300, 42, 999, 7, 1100], list(range(1, 14)), [640]]
GREEDY_STEPS = 24
ALPHAS = [1.0, 0.5]
SMALL_VOCAB = 1152
# Random weights: N(0, WEIGHT_STD) matrices and biases, N(1, NORM_STD) RMSNorm scales. Larger than
# transformers' 0.02 init so that logits are spread and greedy choices are not near-ties.
WEIGHT_STD, NORM_STD = 0.05, 0.1
# pos = neg + N(0, std) per tensor: a small shift, like an RL-tuned copy of the same model.
PERTURB_STD, PERTURB_NORM_STD = 0.012, 0.25
# The engine must reproduce greedy ids exactly in float32 (logit error ~1e-5); a top-2 gap below
# this would make a reference id depend on rounding, so generation refuses it.
MIN_GREEDY_MARGIN = 1e-3
ROPE = {"rope_type": "default", "rope_theta": 1e6}
LLAMA3_ROPE = {"rope_type": "llama3", "rope_theta": 5e5, "factor": 8.0, "low_freq_factor": 1.0,
               "high_freq_factor": 4.0, "original_max_position_embeddings": 64}
QWEN2_SMALL = dict(vocab_size=SMALL_VOCAB, hidden_size=64, intermediate_size=160,
                   num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                   max_position_embeddings=4096, rope_parameters=ROPE, tie_word_embeddings=True,
                   bos_token_id=1149, eos_token_id=1150, rms_norm_eps=1e-6)
# name -> (config class, model class, config keywords, weight seed, max shard size or None)
MODELS = {
    "base": (Qwen2Config, Qwen2ForCausalLM,
             dict(vocab_size=1280, hidden_size=128, intermediate_size=256, num_hidden_layers=4,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                  rope_parameters=ROPE, tie_word_embeddings=False, bos_token_id=1277,
                  eos_token_id=1278, rms_norm_eps=1e-6), 1003, "600KB"),
    "neg": (Qwen2Config, Qwen2ForCausalLM, QWEN2_SMALL, 1002, None),
    "llama3": (LlamaConfig, LlamaForCausalLM,
               dict(vocab_size=1024, hidden_size=96, intermediate_size=192, num_hidden_layers=3,
                    num_attention_heads=6, num_key_value_heads=2, head_dim=16,
                    max_position_embeddings=8192, rope_parameters=LLAMA3_ROPE,
                    tie_word_embeddings=False, bos_token_id=1000, eos_token_id=1001,
                    rms_norm_eps=1e-5), 1004, None),
    "qwen3": (Qwen3Config, Qwen3ForCausalLM,
              dict(vocab_size=1152, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                   num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                   max_position_embeddings=4096, rope_parameters=ROPE, tie_word_embeddings=True,
                   bos_token_id=1100, eos_token_id=1101, rms_norm_eps=1e-6), 1005, None),
}
# Seeds are distinct per model; base, neg and pos's were picked so no greedy step is near-tied.
POS_SEED = 1007
SHARDS = 4
CLASSIC_KEYS = ("rope_theta", "rope_scaling", "torch_dtype")


def random_weights(model, seed, around=None, std=WEIGHT_STD, norm_std=NORM_STD):
    """Fill every parameter (tied ones once) from a seeded generator, in name order; with `around`,
    add the noise to that model's parameters instead of to the N(0, std) / N(1, norm_std) prior."""
    gen = torch.Generator().manual_seed(seed)
    reference = dict(around.named_parameters()) if around is not None else {}
    with torch.no_grad():
        for name, param in sorted(model.named_parameters()):
            is_norm = name.endswith("norm.weight")
            noise = torch.randn(param.shape, generator=gen) * (norm_std if is_norm else std)
            start = reference[name].float() if name in reference else (1.0 if is_norm else 0.0)
            param.copy_(start + noise)


def classic_config_keys(folder):
    """Add the pre-transformers-5 keys published checkpoints carry beside `rope_parameters`
    (top-level rope_theta, rope_scaling with its old `type` alias, torch_dtype), so the engine is
    tested on the form real checkpoints have."""
    path = folder / "config.json"
    config = json.loads(path.read_text())
    rope = dict(config["rope_parameters"])
    config["rope_theta"] = rope.pop("rope_theta")
    scaling = None if rope["rope_type"] == "default" else {**rope, "type": rope["rope_type"]}
    config["rope_scaling"] = scaling
    config["torch_dtype"] = config["dtype"]
    path.write_text(json.dumps(config, indent=2) + "\n")


def write_checkpoint(name, folder, around=None):
    """Build MODELS[name] with random bf16 weights (perturbed from `around` when given), save it as
    a Hugging Face folder; returns the model."""
    config_cls, model_cls, kwargs, seed, shard = MODELS[name]
    config = config_cls(**kwargs)
    model = model_cls(config).eval()
    random_weights(model, seed)
    if around is not None:
        random_weights(model, POS_SEED, around, PERTURB_STD, PERTURB_NORM_STD)
    model = model.to(torch.bfloat16)
    model.save_pretrained(folder, max_shard_size=shard or "50GB")
    classic_config_keys(folder)
    if shard and len(list(folder.glob("model-*.safetensors"))) != SHARDS:
        sys.exit(f"make_fixtures: {name} did not save as {SHARDS} shards; adjust its shard size")
    return model


def load_float32(folder):
    """The checkpoint as transformers loads it for the references: float32 compute from the
    on-disk bf16 weights, eager attention."""
    return AutoModelForCausalLM.from_pretrained(
        folder, dtype=torch.float32, attn_implementation="eager").eval()


def all_logits(model, ids):
    with torch.no_grad():  # logits: [T, V]
        return model(torch.tensor([ids])).logits[0].float()


def margin(logits):
    top = torch.topk(logits, 2).values
    return float(top[0] - top[1])


def greedy(next_logits, ids):
    """GREEDY_STEPS argmax tokens from `next_logits(ids) -> [V]`, recomputing the whole sequence
    each step (no KV cache, so the reference does not depend on transformers' cache code) and
    never stopping at EOS. Returns the ids and the smallest top-2 gap seen."""
    seq, out, gap = list(ids), [], float("inf")
    for _ in range(GREEDY_STEPS):
        logits = next_logits(seq)
        gap = min(gap, margin(logits))
        token = int(torch.argmax(logits))
        out.append(token)
        seq.append(token)
    return out, gap


def rast_logits(base, pos, neg, alpha):
    """The RAST combination over the small vocab, -inf for the base's extra ids: [V_base]."""
    combined = base[:SMALL_VOCAB] + alpha * (pos[:SMALL_VOCAB] - neg[:SMALL_VOCAB])
    pad = torch.full((base.shape[0] - SMALL_VOCAB,), float("-inf"))
    return torch.cat([combined, pad])


def single_references(model, vocab):
    """prompt{p}.ids / .logits / .greedy of one model; prompt ids are taken modulo its vocab."""
    tensors, gaps = {}, {}
    for p, prompt in enumerate(PROMPTS):
        ids = [t % vocab for t in prompt]
        tensors[f"prompt{p}.ids"] = torch.tensor(ids, dtype=torch.int64)
        tensors[f"prompt{p}.logits"] = all_logits(model, ids).contiguous()
        out, gaps[f"prompt{p}.greedy"] = greedy(lambda seq: all_logits(model, seq)[-1], ids)
        tensors[f"prompt{p}.greedy"] = torch.tensor(out, dtype=torch.int64)
    return tensors, gaps


def trio_references(models):
    """The trio's reference.safetensors tensors: each model's logits and greedy ids, and RAST."""
    tensors, gaps = {}, {}
    for p, ids in enumerate(PROMPTS):
        tensors[f"prompt{p}.ids"] = torch.tensor(ids, dtype=torch.int64)
        for name, model in models.items():
            tensors[f"prompt{p}.{name}.logits"] = all_logits(model, ids).contiguous()
            key = f"prompt{p}.{name}.greedy"
            out, gaps[key] = greedy(lambda seq, m=model: all_logits(m, seq)[-1], ids)
            tensors[key] = torch.tensor(out, dtype=torch.int64)
        for alpha in ALPHAS:
            def step(seq, a=alpha):
                last = [all_logits(models[m], seq)[-1] for m in ("base", "pos", "neg")]
                return rast_logits(*last, a)
            tensors[f"prompt{p}.rast_alpha{alpha}.step0_logits"] = step(ids)
            key = f"prompt{p}.rast_alpha{alpha}.greedy"
            out, gaps[key] = greedy(step, ids)
            tensors[key] = torch.tensor(out, dtype=torch.int64)
    return tensors, gaps


def classic_keys_change_nothing(folder):
    """Max |logit difference| between the saved folder and a copy whose config.json has only
    transformers-5's keys: 0.0 unless the classic keys change how transformers loads it."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / folder.name
        shutil.copytree(folder, plain)
        config = json.loads((plain / "config.json").read_text())
        for key in CLASSIC_KEYS:
            del config[key]
        (plain / "config.json").write_text(json.dumps(config))
        model, bare = load_float32(folder), load_float32(plain)
        ids = [t % model.config.vocab_size for t in PROMPTS[0]]
        return float((all_logits(model, ids) - all_logits(bare, ids)).abs().max())


def generate(out):
    out.mkdir(parents=True, exist_ok=True)
    built = {"neg": write_checkpoint("neg", out / "neg")}
    built["pos"] = write_checkpoint("neg", out / "pos", around=built["neg"])
    for name in ("base", "llama3", "qwen3"):
        built[name] = write_checkpoint(name, out / name)

    info = {
        "generator": "scripts/make_fixtures.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
        "weights_dtype": "bfloat16 on disk; reference computed in float32 from those bf16 weights, "
                         "eager attention",
        "prompts": PROMPTS,
        "greedy_steps": GREEDY_STEPS,
        "alphas": ALPHAS,
    }
    meta = {"info": json.dumps(info)}
    loaded = {name: load_float32(out / name) for name in built}
    trio, gaps = trio_references({m: loaded[m] for m in ("base", "pos", "neg")})
    save_file(trio, out / "reference.safetensors", metadata=meta)
    for name in ("llama3", "qwen3"):
        tensors, own = single_references(loaded[name], loaded[name].config.vocab_size)
        save_file(tensors, out / name / "reference.safetensors", metadata=meta)
        gaps.update({f"{name}/{key}": gap for key, gap in own.items()})
    small = sorted(key for key, gap in gaps.items() if gap < MIN_GREEDY_MARGIN)
    if small:
        sys.exit(f"make_fixtures: near-tied greedy steps (top-2 gap < {MIN_GREEDY_MARGIN}) in "
                 f"{', '.join(small)}; change those models' seeds")

    diff = max(classic_keys_change_nothing(out / m) for m in built)
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    manifest = {**info, "min_greedy_margin": round(min(gaps.values()), 6),
                "classic_config_keys": list(CLASSIC_KEYS), "classic_config_max_abs_diff": diff,
                "files": sorted(files + ["MANIFEST.json"])}
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n")


def compare(fresh, committed):
    """Differences between a regenerated folder and the committed one, one line each: weights and
    configs byte for byte, reference ids exactly, reference logits to float32 tolerance (another
    CPU's BLAS may round differently)."""
    problems = []
    want = json.loads((committed / "MANIFEST.json").read_text())
    got = json.loads((fresh / "MANIFEST.json").read_text())
    if got["files"] != want["files"]:
        return [f"file lists differ: {sorted(set(got['files']) ^ set(want['files']))}"]
    for key in ("prompts", "greedy_steps", "alphas"):
        if got[key] != want[key]:
            problems.append(f"MANIFEST.json {key} differs")
    for rel in want["files"]:
        if rel == "MANIFEST.json":
            continue
        a, b = fresh / rel, committed / rel
        if not rel.endswith("reference.safetensors"):
            if not filecmp.cmp(a, b, shallow=False):
                problems.append(f"{rel} differs")
            continue
        ta, tb = load_file(a), load_file(b)
        if ta.keys() != tb.keys():
            problems.append(f"{rel}: tensor names differ")
            continue
        for key in sorted(ta):
            x, y = ta[key], tb[key]
            same = torch.equal(x, y) if x.dtype == torch.int64 else (
                x.shape == y.shape and torch.allclose(x, y, rtol=1e-4, atol=1e-4, equal_nan=True))
            if not same:
                problems.append(f"{rel}: {key} differs")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temp folder and compare with --out")
    args = parser.parse_args()
    torch.set_num_threads(1)  # one BLAS thread: the same summation order on every machine
    torch.manual_seed(0)  # nothing should draw from the global generator; pin it anyway
    transformers.utils.logging.disable_progress_bar()
    if not args.check:
        if args.out.exists():
            shutil.rmtree(args.out)
        generate(args.out)
        print(f"make_fixtures: wrote {args.out}")
        return
    if not (args.out / "MANIFEST.json").is_file():
        sys.exit(f"make_fixtures: no {args.out}/MANIFEST.json to check; run without --check first")
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp) / "tiny")
        problems = compare(Path(tmp) / "tiny", args.out)
    if problems:
        print("\n".join(f"make_fixtures --check: {p}" for p in problems), file=sys.stderr)
        sys.exit(1)
    print(f"make_fixtures --check: {args.out} matches a fresh generation")


if __name__ == "__main__":
    main()
