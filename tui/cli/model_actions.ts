/** Actions of `info`, `logits` and `generate`: thin wrappers over the engine. */
import { UserError } from "../../engine/errors.ts";
import { SlotLayout } from "../../engine/block_pool.ts";
import { defaultBlockSize } from "../../engine/kv_pool.ts";
import {
  integer,
  parseDtype,
  parsePairs,
  parseSampling,
  parseSmallModels,
  parseTokenIds,
  type RawDevice,
  type RawSteering,
} from "./options.ts";

interface ModelArgs extends RawDevice {
  model?: string;
  baseModel?: string;
}

function modelArg(o: ModelArgs): string {
  const model = o.model ?? o.baseModel;
  if (!model) throw new UserError("--model is missing; pass a model folder or a hub id Org/Name");
  return model;
}

const tokensArg = (text: string | undefined) => parseTokenIds("--tokens", text);

async function loadOne(o: ModelArgs) {
  const { loadModel } = await import("../../engine/mod.ts");
  return loadModel(modelArg(o), {
    dtype: parseDtype(o.dtype),
    device: o.device,
    tensorParallelSize: integer("--tensor-parallel-size", o.tensorParallelSize, 1),
  });
}

/** `rast info`. */
export async function infoCommand(o: ModelArgs & { json?: boolean }): Promise<void> {
  using model = await loadOne(o);
  const i = model.info;
  if (o.json) {
    console.log(JSON.stringify(i));
    return;
  }
  const rows: [string, string][] = [
    ["folder", i.dir],
    ["architecture", i.architecture],
    [
      "parameters",
      `${i.parameters.toLocaleString("en-US")} (${(i.parameters / 1e9).toFixed(3)} B)`,
    ],
    ["layers", String(i.layers)],
    ["hidden / intermediate", `${i.hidden} / ${i.intermediate}`],
    ["heads / kv heads / head dim", `${i.heads} / ${i.kvHeads} / ${i.headDim}`],
    ["vocab", String(i.vocab)],
    ["tied embeddings", String(i.tiedEmbeddings)],
    ["rope", `${i.rope.type}, theta ${i.rope.theta}, factor ${i.rope.factor}`],
    ["max positions", String(i.maxPositions)],
    ["dtype (disk / compute)", `${i.diskDtype || "?"} / ${i.dtype}`],
    ["device", i.device],
    ["tensor parallel", String(i.tensorParallel)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

/** `rast logits`. */
export async function logitsCommand(o: ModelArgs & { tokens?: string; out?: string }) {
  const ids = tokensArg(o.tokens);
  if (!o.out) throw new UserError("--out is missing; pass a path such as logits.safetensors");
  using model = await loadOne(o);
  for (const id of ids) {
    if (id >= model.vocab) {
      throw new UserError(`Token id ${id} is outside the vocab (${model.vocab}); pass smaller ids`);
    }
  }
  const layout = new SlotLayout(1, ids.length, defaultBlockSize(model.info.device));
  await model.initCache(layout.blocks, layout.blockSize);
  const logits = await model.forward({
    tokens: Int32Array.from(ids),
    seqLens: Int32Array.of(ids.length),
    startPos: Int32Array.of(0),
    ...layout.tables([0]),
  }, "all");
  const { writeSafetensors } = await import("../checkpoints/safetensors.ts");
  await writeSafetensors(o.out, {
    logits: { dtype: "F32", shape: [ids.length, model.vocab], data: logits },
  }, { model: model.info.dir, tokens: ids.join(",") });
  console.error(`rast: wrote logits [${ids.length}, ${model.vocab}] to ${o.out}`);
}

interface GenerateArgs extends ModelArgs, RawSteering {
  tokens?: string;
  prompt?: string;
  maxTokens: string;
  maxNewTokens?: string;
  temperature: string;
  topP: string;
  topK: string;
  seed: string;
  json?: boolean;
}

/** `rast generate`. */
export async function generateCommand(o: GenerateArgs, alphaGiven: boolean): Promise<void> {
  const pairs = parsePairs(o, alphaGiven);
  if ((o.tokens === undefined) === (o.prompt === undefined)) {
    throw new UserError("Pass exactly one of --tokens and --prompt");
  }
  const sampling = parseSampling(o);
  const options = {
    maxTokens: o.maxNewTokens !== undefined
      ? integer("--max-new-tokens", o.maxNewTokens, 1)
      : integer("--max-tokens", o.maxTokens, 1),
    temperature: sampling.temperature,
    topP: sampling.topP,
    topK: sampling.topK,
  };
  const seed = sampling.seed;
  const promptIds = o.tokens !== undefined ? tokensArg(o.tokens) : undefined;
  const { openEngine } = await import("../../engine/mod.ts");
  const engine = await openEngine({
    baseModel: modelArg(o),
    pairs,
    dtype: parseDtype(o.dtype),
    device: o.device,
    tensorParallelSize: integer("--tensor-parallel-size", o.tensorParallelSize, 1),
    smallModels: parseSmallModels(o.smallModels),
    enforceEager: Boolean(o.enforceEager),
    maxConcurrent: 1,
    onNotice: (message) => console.error(`rast: ${message}`),
  });
  try {
    const ids = promptIds ?? engine.encode(o.prompt!);
    const stopIds = o.prompt !== undefined ? [...(engine.tokenizer?.eosIds ?? [])] : [];
    let tokens: number[] = [];
    let text = "";
    const stream = engine.generate([{ request: 0, promptIds: ids, samples: 1, seed }], {
      ...options,
      stopIds,
    });
    for await (const event of stream) {
      if (event.kind === "token" && !o.json && engine.tokenizer) {
        await Deno.stdout.write(new TextEncoder().encode(event.text));
      } else if (event.kind === "finished") {
        tokens = event.tokens;
        text = event.text;
      } else if (event.kind === "error") {
        throw new Error(event.message);
      }
    }
    if (o.json) {
      console.log(JSON.stringify(engine.tokenizer ? { tokens, text } : { tokens }));
    } else if (engine.tokenizer) {
      console.log();
    } else {
      console.log(tokens.join(","));
    }
  } finally {
    engine.close();
  }
}
