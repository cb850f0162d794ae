/**
 * Hugging Face tokenizers (tokenizer.json + tokenizer_config.json) through the pure-JS
 * `@huggingface/tokenizers`, plus streaming detokenization and the vocabulary check that RAST
 * needs before it mixes logits of models from different folders.
 */
import { join } from "node:path";
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { UserError } from "./errors.ts";
import { modelEosIds } from "./stop_ids.ts";

type Json = Record<string, unknown>;

async function readJsonIfPresent(path: string): Promise<Json | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw new UserError(`Cannot read "${path}": ${(err as Error).message}; check its permissions`);
  }
  try {
    const value = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value;
  } catch { /* reported below */ }
  throw new UserError(`Cannot parse "${path}": it is not a JSON object; restore the model's file`);
}

/** Options of decode and the streaming decoder. */
export interface DecodeOptions {
  /** Leave out special tokens (`<|im_end|>` ...), as vLLM does by default. Default true. */
  skipSpecialTokens?: boolean;
}

/** A model folder's tokenizer: encode, decode, vocabulary lookups, special and end ids. */
export class Tokenizer {
  readonly #hf: HfTokenizer;
  readonly #vocab: string[];
  /** One more than the largest token id (vocab and added tokens; may be below the model's logits). */
  readonly vocabSize: number;
  /** Ids of added tokens marked special. */
  readonly specialIds: readonly number[];
  /** End-of-sequence ids of the model folder (engine/stop_ids.ts modelEosIds). */
  readonly eosIds: readonly number[];

  private constructor(hf: HfTokenizer, eosIds: readonly number[]) {
    this.#hf = hf;
    const vocab = hf.model?.vocab;
    if (!vocab) throw new UserError("Cannot use a tokenizer.json without a model section");
    this.#vocab = vocab;
    this.vocabSize = vocab.length;
    this.specialIds = [...hf.get_added_tokens_decoder()]
      .filter(([, token]) => token.special)
      .map(([id]) => id)
      .sort((a, b) => a - b);
    this.eosIds = eosIds;
  }

  /**
   * Loads `dir/tokenizer.json` with `tokenizer_config.json` and `generation_config.json` when
   * present; null when the folder has no tokenizer.json (such models work on token ids).
   */
  static async fromModelDir(dir: string): Promise<Tokenizer | null> {
    const tokenizerPath = join(dir, "tokenizer.json");
    const tokenizerJson = await readJsonIfPresent(tokenizerPath);
    if (tokenizerJson === null) return null;
    const config = await readJsonIfPresent(join(dir, "tokenizer_config.json")) ?? {};
    let hf: HfTokenizer;
    try {
      hf = new HfTokenizer(tokenizerJson, config);
    } catch (err) {
      throw new UserError(
        `Cannot load tokenizer "${tokenizerPath}": ${(err as Error).message}; ` +
          `check that it is a Hugging Face tokenizer.json`,
      );
    }
    return new Tokenizer(hf, modelEosIds(dir, tokenizerJson));
  }

  /** Token ids of `text`, with the tokenizer's own special tokens (e.g. a BOS) as HF adds them. */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    return this.#hf.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  /** Text of `ids`; ids with no token (the padded tail of the embedding) decode to nothing. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const known = ids.filter((id) => this.#vocab[id] !== undefined);
    if (known.length === 0) return "";
    return this.#hf.decode(known, { skip_special_tokens: options.skipSpecialTokens ?? true });
  }

  /** The token string of an id (byte-level form, e.g. "Ġworld"), undefined when there is none. */
  idToToken(id: number): string | undefined {
    return this.#vocab[id];
  }

  /** The id of a token string, undefined when it is not in the vocabulary. */
  tokenToId(token: string): number | undefined {
    return this.#hf.token_to_id(token);
  }
}

/**
 * Incremental detokenizer for one sequence (the prefix/read offset window of HF TGI and vLLM's
 * detokenize_incrementally): each push decodes only the last few tokens, and text is held back
 * while it ends in U+FFFD, so no piece carries a broken UTF-8 sequence.
 */
export class StreamingDecoder {
  readonly #tokenizer: Tokenizer;
  readonly #options: DecodeOptions;
  #ids: number[];
  /** Window start: text before it has been emitted and is not needed as context. */
  #prefixOffset = 0;
  /** Tokens before it have been emitted. */
  #readOffset: number;
  #prefixText = "";

  /** `context`: the last prompt ids, for tokenizers whose pieces depend on what precedes them. */
  constructor(
    tokenizer: Tokenizer,
    options: DecodeOptions & { context?: readonly number[] } = {},
  ) {
    this.#tokenizer = tokenizer;
    this.#options = { skipSpecialTokens: options.skipSpecialTokens };
    this.#ids = [...(options.context ?? []).slice(-5)];
    this.#readOffset = this.#ids.length;
    this.#prefixText = tokenizer.decode(this.#ids, this.#options);
  }

  /** Adds one generated id; returns the newly completed text ("" while it is incomplete). */
  push(id: number): string {
    this.#ids.push(id);
    const text = this.#tokenizer.decode(this.#ids.slice(this.#prefixOffset), this.#options);
    if (text.length <= this.#prefixText.length || text.endsWith("\uFFFD")) return "";
    const piece = text.slice(this.#prefixText.length);
    // Slide the window: the tokens just read become the context of the next piece.
    this.#ids = this.#ids.slice(this.#readOffset);
    this.#prefixOffset = 0;
    this.#readOffset = this.#ids.length;
    this.#prefixText = this.#tokenizer.decode(this.#ids, this.#options);
    return piece;
  }

  /** The text still held back at the end of the sequence (may end in U+FFFD if it is broken). */
  flush(): string {
    const text = this.#tokenizer.decode(this.#ids.slice(this.#prefixOffset), this.#options);
    const piece = text.length > this.#prefixText.length ? text.slice(this.#prefixText.length) : "";
    this.#ids = [];
    this.#prefixOffset = this.#readOffset = 0;
    this.#prefixText = "";
    return piece;
  }
}

/** What checkVocabCompatible found: sizes of logits and tokenizers, and the padded tail. */
export interface VocabReport {
  /** Logits of the base model (config vocab_size). */
  baseVocab: number;
  /** Logits of the small model. */
  smallVocab: number;
  /** Ids both models score: min(baseVocab, smallVocab); the combined logits have this many. */
  sharedVocab: number;
  /** Base ids at or above sharedVocab: padding, set to -inf and never sampled. */
  paddedTail: number;
  baseTokenizerSize: number;
  smallTokenizerSize: number;
  /** Ids whose token strings were compared and found equal. */
  checkedIds: number;
  /** Base tokens with ids at or above sharedVocab (they can never be produced). */
  unreachableBaseTokens: number;
}

/**
 * Checks that a small model's tokenizer maps tokens to the same ids as the base's on the ids
 * both models score; throws UserError naming the first disagreeing id and both tokens.
 */
export function checkVocabCompatible(
  base: Tokenizer,
  small: Tokenizer,
  options: { baseVocab: number; smallVocab: number; baseName?: string; smallName?: string },
): VocabReport {
  const { baseVocab, smallVocab } = options;
  const sharedVocab = Math.min(baseVocab, smallVocab);
  const checkedIds = Math.min(sharedVocab, base.vocabSize, small.vocabSize);
  for (let id = 0; id < checkedIds; id++) {
    const baseToken = base.idToToken(id);
    const smallToken = small.idToToken(id);
    if (baseToken !== smallToken) {
      throw new UserError(
        `The tokenizer of ${options.smallName ? `"${options.smallName}"` : "the small model"} ` +
          `disagrees with the base's at id ${id}: ${JSON.stringify(smallToken ?? null)} vs ` +
          `${JSON.stringify(baseToken ?? null)} in ` +
          `${options.baseName ? `"${options.baseName}"` : "the base"}; ` +
          `use small models from the base model's family (same vocabulary)`,
      );
    }
  }
  let unreachableBaseTokens = 0;
  for (let id = sharedVocab; id < base.vocabSize; id++) {
    if (base.idToToken(id) !== undefined) unreachableBaseTokens++;
  }
  return {
    baseVocab,
    smallVocab,
    sharedVocab,
    paddedTail: Math.max(0, baseVocab - sharedVocab),
    baseTokenizerSize: base.vocabSize,
    smallTokenizerSize: small.vocabSize,
    checkedIds,
    unreachableBaseTokens,
  };
}
