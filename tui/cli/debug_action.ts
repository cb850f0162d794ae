/**
 * `rast debug`'s implementation: validate, resolve the models (the demo trio when none are
 * given), build the prompt, then load the engine and step one answer with engine/debugger.ts —
 * under the interactive view, or to the end with one table line per step. --trace writes every
 * step's record as a JSON line; nothing is written until all input has been checked.
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { MINIARITH_MODELS } from "../../datasets/miniarith.ts";
import { UserError } from "../../engine/errors.ts";
import { DEFAULT_STOP_STRINGS, renderPrompt } from "../../datasets/prompts.ts";
import { loadDataset } from "../../datasets/load.ts";
import { resolveModel } from "../../engine/hub.ts";
import type { PairOption } from "../runs/plan.ts";
import { declaredStopIds } from "../../engine/stop_ids.ts";
import { type DebugConfig, parseDebugOptions, type RawDebugOptions } from "./debug_options.ts";
import { enableLiveScreen } from "./live_screen.ts";

/** The models to load, as folders. */
interface DebugModels {
  base: string;
  pairs: PairOption[];
  title: string;
}

const DEMO_NOTE = "rast debug: no models given, so the trained miniarith trio is used " +
  "(datasets/miniarith; pass --base-model, --positive-model and --negative-model for others)";

/** Runs `rast debug` with commander's options; throws UserError for bad input. */
export async function debugCommand(
  raw: RawDebugOptions,
  flags: { alphaGiven: boolean },
): Promise<void> {
  const config = parseDebugOptions(raw, flags);
  checkTracePath(config.trace);
  const question = await questionOf(config);
  const models = resolveModels(config);
  const prompt = await promptOf(config, { question, baseDir: models.base });
  if (config.baseModel === undefined) console.error(DEMO_NOTE);

  const { openEngine } = await import("../../engine/mod.ts");
  const { StepDebugger } = await import("../../engine/debugger.ts");
  const engine = await openEngine({
    baseModel: models.base,
    pairs: models.pairs,
    dtype: config.dtype,
    device: config.device,
    tensorParallelSize: config.tensorParallelSize,
    smallModels: config.smallModels,
    enforceEager: config.enforceEager,
    maxConcurrent: 1,
  });
  try {
    const ids = prompt.ids ?? engine.encode(prompt.text!);
    const bad = ids.find((id) => id >= engine.vocab.shared);
    if (bad !== undefined) {
      throw new UserError(
        `Prompt token id ${bad} is outside the models' vocabulary (0 to ${
          engine.vocab.shared - 1
        }); pass smaller ids`,
      );
    }
    const stepper = new StepDebugger(engine, ids, {
      temperature: config.temperature,
      topP: config.topP,
      topK: config.topK,
      seed: config.seed,
      maxTokens: config.maxTokens,
      // the same stop set a run of these models and this prompt has
      stopIds: declaredStopIds({
        baseDir: models.base,
        smallDirs: models.pairs.flatMap((p) => [p.positive, p.negative]),
        prompts: prompt.text === undefined ? [] : [prompt.text],
      }).map((s) => s.id),
      stopStrings: config.stopStrings ?? [...DEFAULT_STOP_STRINGS],
      k: config.show,
    });
    const trace = config.trace
      ? Deno.openSync(config.trace, { write: true, create: true, truncate: true })
      : undefined;
    const onStep = (step: unknown) => trace && writeAll(trace, JSON.stringify(step) + "\n");
    try {
      const interactive = !config.batch && Deno.stdout.isTerminal() && Deno.stdin.isTerminal();
      if (interactive) {
        enableLiveScreen();
        const { runDebugTui } = await import("../app/debug_app.tsx");
        await runDebugTui({
          stepper,
          question: prompt.display,
          title: models.title,
          k: config.show,
          onStep,
        });
      } else {
        const { DEBUG_TABLE_HEADER, debugStepLine } = await import("../app/debug_table.ts");
        console.log(DEBUG_TABLE_HEADER);
        let last;
        for (let step = await stepper.step(); step; step = await stepper.step()) {
          onStep(step);
          console.log(debugStepLine(step));
          last = step;
        }
        console.log(
          `answer (${last?.finished}, ${(last?.step ?? -1) + 1} tokens):\n${last?.text ?? ""}`,
        );
      }
    } finally {
      trace?.close();
    }
    if (config.trace) console.error(`rast: trace written to ${config.trace}`);
  } finally {
    engine.close();
  }
}

function writeAll(file: Deno.FsFile, text: string): void {
  let bytes = new TextEncoder().encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/** Refuses a trace path whose folder is missing or which names a folder. */
function checkTracePath(path: string | undefined): void {
  if (path === undefined) return;
  const folder = dirname(resolve(path));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new UserError(`--trace "${path}": folder "${folder}" does not exist; create it first`);
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new UserError(`--trace "${path}" is a folder; pass a file path such as steps.jsonl`);
  }
}

/** The given models as folders, or the trained miniarith trio when none are given. */
function resolveModels(config: DebugConfig): DebugModels {
  const settings = `T ${config.temperature} · top-p ${config.topP} · seed ${config.seed}`;
  if (config.baseModel === undefined) {
    const { base, positive, negative } = MINIARITH_MODELS;
    return {
      base,
      pairs: [{ positive, negative, weight: config.alpha }],
      title: `miniarith trio · α ${config.alpha} · ${settings}`,
    };
  }
  const base = resolveModel(config.baseModel);
  const pairs = config.pairs.map((p) => ({
    positive: resolveModel(p.positive).path,
    negative: resolveModel(p.negative).path,
    weight: p.weight,
  }));
  const steer = pairs.map((p) => `${basename(p.positive)}−${basename(p.negative)} ×${p.weight}`);
  return { base: base.path, pairs, title: [base.label, ...steer, settings].join(" · ") };
}

/** The question text of --question or --dataset/--index (undefined for --tokens). */
async function questionOf(config: DebugConfig): Promise<string | undefined> {
  const { prompt } = config;
  if (prompt.kind === "question") return prompt.question;
  if (prompt.kind === "tokens") return undefined;
  const dataset = await loadDataset(prompt.dataset, { dataDir: prompt.dataDir });
  const row = dataset.rows[prompt.index];
  if (!row) {
    const last = dataset.rows.length - 1;
    throw new UserError(
      `--index ${prompt.index} is past the end of "${dataset.name}" (${dataset.rows.length} rows); pass 0 to ${last}`,
    );
  }
  return row.question;
}

/** The prompt as ids (--tokens) or as rendered text, and what the view shows as the question. */
async function promptOf(
  config: DebugConfig,
  opts: { question?: string; baseDir: string },
): Promise<{ ids?: number[]; text?: string; display: string }> {
  const { prompt } = config;
  if (prompt.kind === "tokens") return { ids: prompt.ids, display: `token ids ${prompt.ids}` };
  if (!existsSync(join(opts.baseDir, "tokenizer.json"))) {
    throw new UserError(
      `"${opts.baseDir}" has no tokenizer.json, so text cannot be encoded; pass the prompt as --tokens ID,ID,...`,
    );
  }
  const question = opts.question!;
  const text = await renderPrompt(config.promptTemplate, question, { modelDir: opts.baseDir });
  return { text, display: question };
}
