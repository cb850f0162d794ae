/**
 * The token ids a run stops on, as the models declare them: generation_config.json's
 * `eos_token_id` (an int or a list; config.json's when there is no generation config) of the
 * base and of every small model, the tokenizer's eos token, the chat end token (`<|im_end|>`,
 * `<|eot_id|>`) when the prompts are in a chat format, and the user's --stop-id. The RL-tuned
 * Qwen models end their answers with <|im_end|>; without it a steered answer runs to max tokens.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "./errors.ts";
import { configVocabSize } from "./hub.ts";

/** Where the stop ids come from. */
export interface StopIdSources {
  /** The base model's folder (its tokenizer is the one prompts and outputs use). */
  baseDir: string;
  /** Every small model's folder. */
  smallDirs: readonly string[];
  /** Rendered prompts: a chat start marker in them means the chat end token stops. */
  prompts: readonly string[];
  /** --stop-id values. */
  extra?: readonly number[];
}

/** Chat formats: the marker that opens a turn in the prompt, and the token that ends one. */
const CHAT_FORMATS = [
  { start: "<|im_start|>", end: "<|im_end|>" },
  { start: "<|start_header_id|>", end: "<|eot_id|>" },
];

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new UserError(`"${path}" is not valid JSON; repair or re-download the model`);
  }
}

/**
 * End-of-sequence ids a model folder declares: generation_config.json's eos_token_id, else
 * config.json's (what vLLM and transformers stop on by default).
 */
export function eosTokenIds(modelDir: string): number[] {
  for (const file of ["generation_config.json", "config.json"]) {
    const eos = readJson(join(modelDir, file))?.eos_token_id;
    const ids = (Array.isArray(eos) ? eos : [eos]).filter(Number.isInteger) as number[];
    if (ids.length) return ids;
  }
  return [];
}

/**
 * Every end-of-sequence id of one model folder: its tokenizer's eos token (tokenizer_config.json's
 * eos_token, looked up in tokenizer.json) first, then eosTokenIds. The Tokenizer's eosIds and
 * `rast generate` use this; a run's stop set (declaredStopIds) is the union over its models.
 * `tokenizer` is the folder's parsed tokenizer.json, when the caller has read it already.
 */
export function modelEosIds(
  modelDir: string,
  tokenizer: Record<string, unknown> | undefined = readJson(join(modelDir, "tokenizer.json")),
): number[] {
  const ids = new Set<number>();
  const eos = eosTokenText(modelDir);
  const id = tokenizer && eos !== undefined ? tokenId(tokenizer, eos) : undefined;
  if (id !== undefined) ids.add(id);
  for (const e of eosTokenIds(modelDir)) ids.add(e);
  return [...ids];
}

/** A token's id in a model folder's tokenizer.json (added tokens, then the vocabulary). */
function tokenId(tokenizer: Record<string, unknown>, text: string): number | undefined {
  const added = tokenizer.added_tokens;
  if (Array.isArray(added)) {
    const hit = added.find((t) => t?.content === text);
    if (hit && Number.isInteger(hit.id)) return hit.id;
  }
  const vocab = (tokenizer.model as { vocab?: unknown } | undefined)?.vocab;
  if (vocab && typeof vocab === "object" && !Array.isArray(vocab)) {
    const id = (vocab as Record<string, unknown>)[text];
    if (Number.isInteger(id)) return id as number;
  }
  return undefined;
}

/** The eos token text of tokenizer_config.json (a string or an AddedToken object). */
function eosTokenText(modelDir: string): string | undefined {
  const eos = readJson(join(modelDir, "tokenizer_config.json"))?.eos_token;
  if (typeof eos === "string") return eos;
  const content = (eos as { content?: unknown } | null | undefined)?.content;
  return typeof content === "string" ? content : undefined;
}

/** One stop id and why it is in the set. */
export interface StopId {
  id: number;
  source: string;
}

/** The stop ids of a run, each with its first source, in increasing id order. */
export function declaredStopIds(sources: StopIdSources): StopId[] {
  const found = new Map<number, string>();
  const add = (id: number | undefined, source: string) => {
    if (id !== undefined && !found.has(id)) found.set(id, source);
  };
  for (const [i, dir] of [sources.baseDir, ...sources.smallDirs].entries()) {
    const who = i === 0 ? "base" : `small model ${i}`;
    for (const id of eosTokenIds(dir)) add(id, `${who} eos_token_id`);
  }
  const tokenizer = readJson(join(sources.baseDir, "tokenizer.json"));
  if (tokenizer) {
    const eos = eosTokenText(sources.baseDir);
    if (eos !== undefined) add(tokenId(tokenizer, eos), `tokenizer eos ${eos}`);
    for (const chat of CHAT_FORMATS) {
      if (sources.prompts.some((p) => p.includes(chat.start))) {
        add(tokenId(tokenizer, chat.end), `chat end ${chat.end}`);
      }
    }
  }
  for (const id of sources.extra ?? []) add(id, "--stop-id");
  return [...found].sort(([a], [b]) => a - b).map(([id, source]) => ({ id, source }));
}

/** "151643 (base eos_token_id), 151645 (chat end <|im_end|>)" for the start-up line. */
export function describeStopIds(ids: readonly StopId[]): string {
  return ids.length ? ids.map((s) => `${s.id} (${s.source})`).join(", ") : "none";
}

/**
 * Stop ids no model pair can produce: ids at or above the smallest config vocab_size of the
 * base and the small models lie in the padded tail, whose combined logits are -inf, so a run
 * whose only stop ids are there writes every sample to the token limit.
 */
export function unreachableStopIds(
  ids: readonly StopId[],
  modelDirs: readonly string[],
): { ids: StopId[]; shared: number } | undefined {
  const sizes = modelDirs.map(configVocabSize).filter((v): v is number => v !== undefined);
  if (sizes.length === 0) return undefined;
  const shared = Math.min(...sizes);
  const out = ids.filter((s) => s.id >= shared);
  return out.length ? { ids: out, shared } : undefined;
}

/** The start-up warning for unreachable stop ids, or undefined when every id can be sampled. */
export function unreachableStopWarning(
  ids: readonly StopId[],
  modelDirs: readonly string[],
): string | undefined {
  const bad = unreachableStopIds(ids, modelDirs);
  if (!bad) return undefined;
  const none = bad.ids.length === ids.length;
  const many = bad.ids.length > 1;
  return `warning: stop id${many ? "s" : ""} ${describeStopIds(bad.ids)} ` +
    `${
      many ? "lie" : "lies"
    } in the padded vocab tail (ids >= ${bad.shared}, which the models do not all score) ` +
    `and can never be sampled; ${
      none
        ? "no stop id is left, so every sample runs to --max-tokens"
        : "the other stop ids remain"
    }; pass a reachable --stop-id or check the models' generation_config.json`;
}
