/**
 * A rank of a two-process world for tensor_parallel_processes_test.ts: rank 0 stays idle longer
 * than RAST_WORLD_TIMEOUT before its first call (the other ranks must keep waiting), then prints
 * the fixture base's logits of prompt 0, split across both ranks, as JSON.
 */
import { followWorld, joinWorld } from "../../engine/world.ts";
import { Model } from "../../engine/model.ts";
import { join } from "node:path";
import { readSafetensors } from "../../tui/checkpoints/safetensors.ts";
import { ints, promptLogits } from "./fixture_cases.ts";
import { FIXTURES_DIR } from "./paths.ts";

const world = await joinWorld();
if (world.rank !== 0) Deno.exit(await followWorld());
const idleMs = 1000 * Number(Deno.env.get("RAST_WORLD_TIMEOUT")) + 1000;
await new Promise((resolve) => setTimeout(resolve, idleMs));
const ref = await readSafetensors(join(FIXTURES_DIR, "reference.safetensors"));
using model = await Model.load(join(FIXTURES_DIR, "base"), { tensorParallel: world.world });
const logits = await promptLogits(model, ints(ref, "prompt0.ids"));
console.log(JSON.stringify({ tensorParallel: model.info.tensorParallel, logits: [...logits] }));
Deno.exit(0);
