/** The `bench` action: builds (once) the random-weight models, runs engine/bench.ts, prints. */
import { join } from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { benchModel, benchTrio } from "../../engine/bench.ts";
import { Model } from "../../engine/model.ts";
import { RastGroup } from "../../engine/group.ts";
import {
  parameterCount,
  type RandomModelShape,
  writeRandomModel,
} from "../checkpoints/random_checkpoint.ts";
import { integer, parseDtype } from "./options.ts";
import { workloadCommand } from "./bench_workload.ts";
import { rastCacheDir } from "../../engine/cache_dirs.ts";

// A Llama-like small model (hidden 1024, 8 layers, vocab 32k) and a RAST trio around it; their
// output matrices 8 times wider (outputScale), so sampling sees peaked distributions.
const SHAPES: Record<string, RandomModelShape> = {
  "small-1024x8": {
    arch: "llama",
    vocab: 32064,
    hidden: 1024,
    intermediate: 2816,
    layers: 8,
    heads: 16,
    kvHeads: 4,
    outputScale: 8,
  },
  "helper-512x4": {
    arch: "qwen2",
    vocab: 32000,
    hidden: 512,
    intermediate: 1408,
    layers: 4,
    heads: 8,
    kvHeads: 2,
    tied: true,
    outputScale: 8,
  },
};
const QUICK: Record<string, RandomModelShape> = {
  "small-1024x8": { ...SHAPES["small-1024x8"], layers: 2, vocab: 8064 },
  "helper-512x4": { ...SHAPES["helper-512x4"], layers: 1, vocab: 8000 },
};

function cacheDir(): string {
  return join(rastCacheDir(), "bench");
}

async function ensureModel(name: string, shape: RandomModelShape, seed: string): Promise<string> {
  const dir = join(
    cacheDir(),
    `${name}-${shape.layers}l-${shape.vocab}v-o${shape.outputScale ?? 1}-${seed}`,
  );
  if (existsSync(join(dir, "config.json"))) return dir;
  console.error(`rast: generating ${name} (${(parameterCount(shape) / 1e6).toFixed(1)} M params)`);
  const tmp = `${dir}.tmp-${Deno.pid}`;
  await writeRandomModel(tmp, shape, seed);
  await Deno.rename(tmp, dir);
  return dir;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

export async function benchCommand(o: {
  fixtures?: string;
  steps: string;
  quick?: boolean;
  device: string;
  dtype?: string;
  json?: boolean;
  workload?: boolean;
  kvMemory?: string;
  questions?: string;
  shapes?: string;
  batches: string;
  context: string;
  enforceEager?: boolean;
}): Promise<void> {
  if (o.workload) return workloadCommand(o);
  if (o.shapes !== undefined || o.device.startsWith("cuda")) {
    const { benchDeviceCommand } = await import("./bench_device_action.ts");
    return await benchDeviceCommand(o);
  }
  const steps = integer("--steps", o.steps, 2);
  const load = { device: o.device, dtype: parseDtype(o.dtype) ?? "float32" };
  const fixtures = o.fixtures ??
    join(fileURLToPath(new URL("../../", import.meta.url)), "test", "fixtures", "tiny");
  const shapes = o.quick ? QUICK : SHAPES;
  const results: Record<string, unknown> = {};

  const single: [string, string][] = [];
  for (const m of ["base", "pos", "llama3", "qwen3"]) {
    if (existsSync(join(fixtures, m, "config.json"))) {
      single.push([`fixture ${m}`, join(fixtures, m)]);
    }
  }
  single.push([
    "random small-1024x8",
    await ensureModel("small-1024x8", shapes["small-1024x8"], "base"),
  ]);
  console.log("model                     prefill tok/s   decode ms/step   outside shim");
  for (const [name, dir] of single) {
    using model = await Model.load(dir, load);
    const r = await benchModel(model, { promptLength: 128, steps });
    results[name] = r;
    console.log(
      `${name.padEnd(24)} ${r.prefillTokensPerSecond.toFixed(0).padStart(14)} ` +
        `${r.decodeMsPerStep.toFixed(3).padStart(16)} ${pct(r.outsideShimShare).padStart(14)}`,
    );
  }

  const pos = await ensureModel("helper-512x4", shapes["helper-512x4"], "pos");
  const neg = await ensureModel("helper-512x4", shapes["helper-512x4"], "neg");
  using base = await Model.load(single[single.length - 1][1], load);
  using positive = await Model.load(pos, load);
  using negative = await Model.load(neg, load);
  using group = new RastGroup(base, [{ positive, negative, weight: 1 }]);
  console.log("\nRAST trio (base small-1024x8, pair helper-512x4), temperature 1, top-p 0.95");
  console.log(
    "batch contexts   ms/step   tokens/s  combine+sample  outside shim  kv_read_ratio  ops/step" +
      "  blocking copies",
  );
  const layers = [base, positive, negative].reduce((n, m) => n + m.info.layers, 0);
  const trio = [];
  // Equal contexts, then a ragged batch whose contexts are 10x apart.
  for (const [batch, contexts] of [[1, [64]], [8, [64]], [32, [64]], [8, [32, 320]]] as const) {
    const r = await benchTrio(group, { batch, contexts: [...contexts], steps, layers });
    trio.push(r);
    console.log(
      `${String(batch).padStart(5)} ${contexts.join("/").padStart(8)} ` +
        `${r.msPerStep.toFixed(2).padStart(9)} ${r.tokensPerSecond.toFixed(1).padStart(10)} ` +
        `${pct(r.combineSampleShare).padStart(15)} ${pct(r.outsideShimShare).padStart(13)} ` +
        `${r.kv_read_ratio.toFixed(3).padStart(14)} ${String(r.ops_per_step).padStart(9)} ` +
        `${String(r.blocking_copies_per_step).padStart(16)}`,
    );
  }
  results.trio = trio;
  if (o.json) console.log(JSON.stringify(results));
}
