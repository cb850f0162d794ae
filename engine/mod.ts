/**
 * Opening the engine: resolve and load the base model and the steering pairs, check their
 * tokenizers agree, and hand back a RastEngine whose generate() is the event stream.
 */
import type { RastEngine } from "./events.ts";
import { deviceMemory, type Dtype, Model } from "./model.ts";
import { type Pair, RastGroup } from "./group.ts";
import { RastDecoder } from "./decoder.ts";
import { checkVocabCompatible, Tokenizer, type VocabReport } from "./tokenizer.ts";
import { configVocabSize, resolveModel } from "./hub.ts";
import { ensureModel } from "./hub_download.ts";
import { EngineError } from "../ffi/errors.ts";
import { UserError } from "./errors.ts";
import { ranksFor } from "./world.ts";

export type { EngineEvent, GenerateOptions, GenerateRequest, RastEngine } from "./events.ts";

/** A steering pair as paths (folders or hub ids) and its weight. */
export interface PairSpec {
  positive: string;
  negative: string;
  weight: number;
}

/** Everything needed to open the engine. */
export interface EngineOptions {
  baseModel: string;
  pairs: PairSpec[];
  tensorParallelSize?: number;
  /** Small models as one whole copy on the base's first device (default, faster), or split
   * across the ranks like the base. */
  smallModels?: "whole" | "sharded";
  dtype?: Dtype;
  device?: string;
  /** Upper bound on sequences decoded at once (default 256); free KV blocks decide below. */
  maxConcurrent?: number;
  /** The KV pools of all models, in bytes (default: sized from the device's memory). */
  kvMemoryBytes?: number;
  /** Share of a GPU's memory rast may use in all (default 0.9, as vLLM). */
  gpuMemoryUtilization?: number;
  /** Positions per KV block (default 256 on CUDA, 16 on CPU). */
  blockSize?: number;
  /** Batch-invariant arithmetic: outputs never depend on batch composition (slower). */
  deterministic?: boolean;
  /** No CUDA graphs: every decode step runs eagerly (vLLM's --enforce-eager). */
  enforceEager?: boolean;
  /** Pipelined steps take fed tokens on the device (default on a GPU; true on a CPU runs the
   * GPU's path, for tests) or from the host. */
  deviceFeed?: boolean;
  threads?: number;
  /** Receives one-line notices for the user (the vocab report). */
  onNotice?: (message: string) => void;
}

/** The opened engine, with what was loaded (for run.json and the UI). */
export interface OpenedEngine extends RastEngine {
  readonly decoder: RastDecoder;
  readonly models: { base: Model; pairs: Pair[] };
  readonly tokenizer: Tokenizer | null;
  readonly vocab: { shared: number; base: number; reports: VocabReport[] };
}

/** Upper bound on concurrent sequences when none is given (free KV blocks decide below). */
export const DEFAULT_MAX_CONCURRENT = 256;

/**
 * Loads one model by folder or hub id (downloaded into the cache first if it is not there); bad
 * input becomes a one-line UserError.
 */
export async function loadModel(
  arg: string,
  options: Pick<
    EngineOptions,
    "dtype" | "device" | "threads" | "tensorParallelSize" | "deterministic"
  >,
  tensorParallel = ranksFor(options.tensorParallelSize),
): Promise<Model> {
  const path = resolveModel(await ensureModel(arg)).path;
  try {
    return await Model.load(path, {
      dtype: options.dtype,
      device: options.device,
      threads: options.threads,
      ...(tensorParallel > 1 ? { tensorParallel } : {}),
      ...(options.deterministic ? { deterministic: true } : {}),
    });
  } catch (err) {
    if (err instanceof EngineError && err.isUserError) throw new UserError(err.message);
    throw err;
  }
}

/** What the tokenizer check found, before any weights load. */
interface TokenizerCheck {
  tokenizer: Tokenizer | null;
  reports: VocabReport[];
  /** Small-model folders without tokenizer.json (their ids are taken to be the base's). */
  unchecked: string[];
}

/**
 * Compares every small model's tokenizer with the base's on the ids both score, reading only
 * tokenizer and config files, so a mismatched pair is refused before a 14B load, not after.
 */
async function checkTokenizers(baseDir: string, smallDirs: string[]): Promise<TokenizerCheck> {
  const tokenizer = await Tokenizer.fromModelDir(baseDir);
  const reports: VocabReport[] = [];
  const unchecked: string[] = [];
  const baseVocab = configVocabSize(baseDir);
  if (!tokenizer || baseVocab === undefined) return { tokenizer, reports, unchecked };
  for (const dir of smallDirs) {
    const small = await Tokenizer.fromModelDir(dir);
    const smallVocab = configVocabSize(dir);
    if (!small) unchecked.push(dir);
    else if (smallVocab !== undefined) {
      reports.push(checkVocabCompatible(tokenizer, small, {
        baseVocab,
        smallVocab,
        baseName: baseDir,
        smallName: dir,
      }));
    }
  }
  return { tokenizer, reports, unchecked };
}

/** A model argument (folder or hub id) as a local folder, downloading it first if needed. */
async function modelPath(arg: string): Promise<string> {
  return resolveModel(await ensureModel(arg)).path;
}

/** Loads every model and returns the engine; closes what it loaded if anything fails. */
export async function openEngine(options: EngineOptions): Promise<OpenedEngine> {
  const loaded: Model[] = [];
  try {
    const smallArgs = [...new Set(options.pairs.flatMap((p) => [p.positive, p.negative]))];
    const smallDirs = await Promise.all(smallArgs.map(modelPath));
    const { tokenizer, reports, unchecked } = await checkTokenizers(
      await modelPath(options.baseModel),
      smallDirs,
    );
    const base = await loadModel(options.baseModel, options);
    loaded.push(base);
    const pairs: Pair[] = [];
    const cache = new Map<string, Model>(); // one model may serve several pairs
    for (const spec of options.pairs) {
      const get = async (arg: string) => {
        let m = cache.get(arg);
        if (!m) {
          const split = options.smallModels === "sharded"
            ? ranksFor(options.tensorParallelSize)
            : 1;
          m = await loadModel(arg, options, split);
          loaded.push(m);
          cache.set(arg, m);
        }
        return m;
      };
      pairs.push({
        positive: await get(spec.positive),
        negative: await get(spec.negative),
        weight: spec.weight,
      });
    }
    const group = new RastGroup(base, pairs);
    if (pairs.length > 0) {
      options.onNotice?.(vocabNotice(group, tokenizer !== null, reports, unchecked));
    }
    const device = base.info.device;
    const decoder = new RastDecoder(group, tokenizer, {
      maxConcurrent: options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT,
      kvMemoryBytes: options.kvMemoryBytes,
      gpuMemoryUtilization: options.gpuMemoryUtilization,
      blockSize: options.blockSize,
      device,
      deviceMemory: () => deviceMemory(device),
      onNotice: options.onNotice,
      cudaGraphs: !options.enforceEager,
      deviceFeed: options.deviceFeed,
    });
    let closed = false;
    return {
      decoder,
      models: { base, pairs },
      tokenizer,
      vocab: { shared: group.sharedVocab, base: group.baseVocab, reports },
      generate: (requests, opts) => decoder.generate(requests, opts),
      decode: (ids) => decoder.decode(ids),
      encode: (text) => decoder.encode(text),
      close: () => {
        if (closed) return;
        closed = true;
        group.close();
        for (const m of loaded) m.close();
      },
    };
  } catch (err) {
    for (const m of loaded) m.close();
    throw err;
  }
}

/**
 * One line on the vocabularies: sizes, the padded tail, and what the tokenizer check covered;
 * a small model without tokenizer.json is named as unchecked, never counted as agreeing.
 */
export function vocabNotice(
  group: { sharedVocab: number; baseVocab: number },
  hasTokenizer: boolean,
  reports: VocabReport[],
  unchecked: string[] = [],
): string {
  const { sharedVocab: shared, baseVocab: base } = group;
  const tail = base > shared
    ? `ids ${shared}..${base - 1} (${base - shared}) are padding, never sampled`
    : "no padded tail";
  const parts: string[] = [];
  if (!hasTokenizer) parts.push("no tokenizer.json: prompts are token ids");
  else {
    if (reports.length > 0) {
      parts.push(
        `small-model tokenizers agree with the base on ${
          Math.min(...reports.map((r) => r.checkedIds))
        } ids`,
      );
    }
    if (unchecked.length > 0) {
      const names = unchecked.map((d) => `"${d}"`).join(", ");
      parts.push(`not checked: ${names} has no tokenizer.json (its ids are taken as the base's)`);
    }
    if (parts.length === 0) parts.push("the small models use the base tokenizer");
  }
  return `vocab: base ${base} logits, shared ${shared}; ${tail}; ${parts.join("; ")}`;
}
