/**
 * The miniarith trio: three tiny Qwen2 checkpoints trained on CPU by scripts/mini_repro/train.py
 * and shipped in datasets/miniarith/models — a base (~1.3M parameters) and a small negative
 * (~0.1M) pretrained on the same corpus of careful and guessed solutions, and the positive: the
 * negative after RL with the grader's verdict as the reward. `./rast demo` runs it by default.
 */
import { fileURLToPath } from "node:url";

const models = (name: string) =>
  fileURLToPath(new URL(`./miniarith/models/${name}`, import.meta.url));

/** Folders of the trained trio. */
export const MINIARITH_MODELS = {
  base: models("base"),
  negative: models("negative"),
  positive: models("positive"),
} as const;

/** The registered dataset the trio was trained for (its held-out test set). */
export const MINIARITH_DATASET = "miniarith";

/** The prompt template the trio was trained with (datasets/prompts.ts). */
export const MINIARITH_PROMPT = "miniarith";

/** Longest answer, in tokens, of the trained trio (the careful solutions are ~40). */
export const MINIARITH_MAX_TOKENS = 64;

/** The table `./rast demo --table --json` printed, committed beside the models. */
export const MINIARITH_TABLE = fileURLToPath(new URL("./miniarith/table.json", import.meta.url));
