/** The fixtures with their reference files and key names (../shared/fixtures/tiny/MANIFEST.json). */
import { join } from "node:path";
import { type SafetensorsContents, toFloat32 } from "../engine/safetensors.ts";
import { FIXTURES_DIR } from "./shared.ts";

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
