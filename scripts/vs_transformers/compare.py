"""rast against Hugging Face transformers on CPU, side by side: the same random-weight
Qwen2.5-0.5B-shape base and a 512x8 pair (made here, float32, from a fixed seed), greedy decode
of one 64-token prompt. Checks that both give the same ids and prints ms/step for the base alone
at batch 1 and the RAST trio (alpha 1) at batch 1 and 8. Two threads each.

    /path/to/venv/bin/python scripts/vs_transformers/compare.py [--lib ffi/build/librast.so]

--lib picks the shim build (the Debian libtorch 1.13 one by default; pass a build against the
torch 2.x wheel to compare that). Models are cached in --models (default
~/.cache/rast/vs-transformers). Pinned: torch 2.13.0 (CPU), transformers 5.17.0.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from transformers import DynamicCache, Qwen2Config, Qwen2ForCausalLM

ROOT = Path(__file__).resolve().parents[2]
VOCAB = 151936
SHAPES = {
    # Qwen2.5-0.5B's config
    "base": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                 num_attention_heads=14, num_key_value_heads=2),
    "pos": dict(hidden_size=512, intermediate_size=1408, num_hidden_layers=8,
                num_attention_heads=8, num_key_value_heads=2),
}
SHAPES["neg"] = SHAPES["pos"]


def make_models(folder: Path) -> dict[str, Path]:
    dirs = {}
    for i, (name, shape) in enumerate(SHAPES.items()):
        out = folder / name
        dirs[name] = out
        if (out / "model.safetensors").exists():
            continue
        config = Qwen2Config(vocab_size=VOCAB, rope_theta=1e6, rms_norm_eps=1e-6,
                             max_position_embeddings=4096, tie_word_embeddings=True,
                             initializer_range=0.05, torch_dtype="float32", **shape)
        torch.manual_seed(1000 + i)
        model = Qwen2ForCausalLM(config).float().eval()
        tmp = out.with_name(name + ".tmp")
        model.save_pretrained(tmp, safe_serialization=True)
        tmp.rename(out)
    return dirs


def load(path: Path):
    return Qwen2ForCausalLM.from_pretrained(path, dtype=torch.float32).eval()


@torch.inference_mode()
def hf_decode(models, prompt: list[int], batch: int, steps: int) -> dict:
    """Greedy decode with one DynamicCache per model; RAST combine base + (pos - neg)."""
    ids = torch.tensor([prompt] * batch)
    caches = [DynamicCache() for _ in models]
    stamps, out = [], []
    inputs = ids
    for _ in range(steps):
        logits = [m(input_ids=inputs, past_key_values=c, use_cache=True).logits[:, -1]
                  for m, c in zip(models, caches)]
        z = logits[0] if len(models) == 1 else logits[0] + (logits[1] - logits[2])
        nxt = z.argmax(-1)
        out.append(nxt)
        inputs = nxt[:, None]
        stamps.append(time.perf_counter())
    gaps = [1000 * (b - a) for a, b in zip(stamps, stamps[1:])]
    return {"ids": torch.stack(out, 1).tolist(), "msPerStep": statistics.median(gaps[1:])}


def rast_decode(dirs, prompt, steps, lib: Path) -> dict:
    deno = ROOT / ".tools/node_modules/@deno/linux-x64-glibc/deno"
    env = {**os.environ, "RAST_LIB": str(lib), "DENO_DIR": str(ROOT / ".tools/deno-dir"),
           "OMP_NUM_THREADS": "2"}
    cmd = [str(deno), "run", "-A", "--quiet", str(ROOT / "scripts/vs_transformers/rast_decode.ts"),
           str(dirs["base"]), str(dirs["pos"]), str(dirs["neg"]), json.dumps(prompt), str(steps)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"rast failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", default=str(ROOT / "ffi/build/librast.so"))
    ap.add_argument("--models", default=str(Path.home() / ".cache/rast/vs-transformers"))
    ap.add_argument("--steps", type=int, default=32)
    args = ap.parse_args()
    torch.set_num_threads(2)
    dirs = make_models(Path(args.models))
    prompt = torch.randint(0, VOCAB, (64,), generator=torch.Generator().manual_seed(7)).tolist()

    rast = rast_decode(dirs, prompt, args.steps, Path(args.lib))
    base = load(dirs["base"])
    trio = [base, load(dirs["pos"]), load(dirs["neg"])]
    hf = {"base": {"1": hf_decode([base], prompt, 1, args.steps)},
          "trio": {"1": hf_decode(trio, prompt, 1, args.steps),
                   "8": hf_decode(trio, prompt, 8, args.steps)}}

    print(f"shim {args.lib}; torch {torch.__version__} for transformers; "
          f"{args.steps} greedy steps after a 64-token prompt, float32, 2 threads")
    print("case          rast ms/step  transformers ms/step  rast/transformers  ids")
    same_all = True
    for kind, batches in hf.items():
        for batch, h in batches.items():
            r = rast[kind][batch]
            same = r["ids"] == h["ids"]
            same_all &= same
            first = next((i for i, (a, b) in enumerate(zip(r["ids"][0], h["ids"][0])) if a != b),
                         None)
            verdict = "identical" if same else f"differ from step {first}"
            print(f"{kind + ' batch ' + batch:13} {r['msPerStep']:12.1f} {h['msPerStep']:21.1f}"
                  f" {r['msPerStep'] / h['msPerStep']:18.2f}  {verdict}")
    sys.exit(0 if same_all else 1)


if __name__ == "__main__":
    main()
