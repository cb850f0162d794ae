/** The fixtures with their reference files and key names (test/fixtures/tiny/MANIFEST.json). */
import { join } from "node:path";
import { type SafetensorsContents, toFloat32 } from "../../tui/checkpoints/safetensors.ts";
import type { Model } from "../../engine/model.ts";
import { FIXTURES_DIR } from "./paths.ts";
import { initSlots } from "./slots.ts";

/** The fixtures' references are float32: on a CUDA build the default would be the checkpoint's. */
export const FLOAT32 = { dtype: "float32" } as const;

export interface FixtureCase {
  name: string;
  dir: string;
  reference: string;
  key: (p: number, what: "ids" | "logits" | "greedy") => string;
}

const trioKey = (model: string) => (p: number, what: string) =>
  what === "ids" ? `prompt${p}.ids` : `prompt${p}.${model}.${what}`;
const ownKey = (p: number, what: string) => `prompt${p}.${what}`;

export const FIXTURE_CASES: FixtureCase[] = [
  ...["base", "pos", "neg"].map((m) => ({
    name: m,
    dir: join(FIXTURES_DIR, m),
    reference: join(FIXTURES_DIR, "reference.safetensors"),
    key: trioKey(m),
  })),
  ...["llama3", "qwen3"].map((m) => ({
    name: m,
    dir: join(FIXTURES_DIR, m),
    reference: join(FIXTURES_DIR, m, "reference.safetensors"),
    key: ownKey,
  })),
];

/** Int64 ids of a reference tensor as numbers. */
export const ints = (ref: SafetensorsContents, key: string) =>
  Array.from(ref.get(key)!.data as BigInt64Array, Number);
/** A reference tensor as float32. */
export const floats = (ref: SafetensorsContents, key: string) => toFloat32(ref.get(key)!);

/** All-position logits of one prompt, prefilled into slot 0 of a fresh cache: [T, V]. */
export async function promptLogits(model: Model, ids: number[]): Promise<Float32Array> {
  const layout = await initSlots(model, 1, 64);
  return await model.forward({
    tokens: Int32Array.from(ids),
    seqLens: Int32Array.of(ids.length),
    ...layout.tables([0]),
    startPos: Int32Array.of(0),
  }, "all");
}
