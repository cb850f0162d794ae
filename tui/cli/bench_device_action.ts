/** `rast bench --shapes` (and `bench --device cuda:N`): real shapes with random weights. */
import { join } from "node:path";
import { benchDevice, type DeviceBenchRow, SHAPES } from "../../engine/bench_device.ts";
import type { Dtype } from "../../engine/model.ts";
import { answerLengths, replayPaged } from "../../engine/workload.ts";
import { UserError } from "../../engine/errors.ts";
import { rastCacheDir } from "../../engine/cache_dirs.ts";
import { integer, parseDtype } from "./options.ts";
import { mathWorkload } from "./bench_workload.ts";

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)}`;

export async function benchDeviceCommand(o: {
  device: string;
  dtype?: string;
  steps: string;
  json?: boolean;
  shapes?: string;
  batches: string;
  context: string;
  enforceEager?: boolean;
  kvMemory?: string;
  questions?: string;
}): Promise<void> {
  const [base, pair, extra] = (o.shapes ?? "Qwen2.5-14B,Qwen2.5-1.5B").split(",").map((s) =>
    s.trim()
  );
  for (const name of [base, pair]) {
    if (!name || !(name in SHAPES) || extra !== undefined) {
      throw new UserError(
        `--shapes "${o.shapes}" is not two of ${Object.keys(SHAPES).join(", ")}; pass base,pair`,
      );
    }
  }
  const batches = o.batches.split(",").map((b) => integer("--batches", b.trim(), 1));
  // Real shapes on a GPU run as published, in bfloat16.
  const dtype: Dtype = parseDtype(o.dtype) ??
    (o.device.startsWith("cuda") ? "bfloat16" : "float32");
  if (!o.json) {
    console.log(
      `${base} + 2 x ${pair}, random weights on ${o.device} (${dtype}), context ` +
        `${o.context}, temperature 1, top-p 0.95, CUDA graphs ${o.enforceEager ? "off" : "on"}`,
    );
    console.log(
      "models batch  prefill tok/s   ms/step   tokens/s  floor ms  % floor  graph  copies  peak GiB",
    );
  }
  const show = (r: DeviceBenchRow) => {
    if (o.json) return;
    console.log(
      `${r.models.padEnd(6)} ${String(r.batch).padStart(5)} ${
        r.prefillTokensPerSecond.toFixed(0).padStart(14)
      } ${r.msPerStep.toFixed(2).padStart(9)} ${r.tokensPerSecond.toFixed(0).padStart(10)} ${
        r.floorMs.toFixed(2).padStart(9)
      } ${(100 * r.floorShare).toFixed(1).padStart(7)}% ${String(r.graphBatch).padStart(6)} ${
        String(r.blockingCopiesPerStep).padStart(7)
      } ${(r.peakBytes === null ? "-" : gib(r.peakBytes)).padStart(9)}`,
    );
  };
  const result = await benchDevice({
    device: o.device,
    dtype,
    base,
    pair,
    batches,
    context: integer("--context", o.context, 1),
    steps: integer("--steps", o.steps, 2),
    cudaGraphs: !o.enforceEager,
    dir: join(rastCacheDir(), "bench-shapes"),
  }, show);

  // MATH500 x 32 through the scheduler, steps at the measured floor, then at the measured share
  // of it (the trio at its largest batch).
  const workload = mathWorkload(o, {
    bandwidth: result.bandwidth,
    weightBytes: result.weightBytes.trio,
    bytesPerPosition: result.kvBytesPerPosition,
  });
  const paged = replayPaged(workload, answerLengths(workload));
  const trio = result.rows.filter((r) => r.models === "trio");
  const share = trio[trio.length - 1].floorShare;
  const projection = {
    floorHours: paged.projectedHours,
    measuredShare: share,
    measuredHours: paged.projectedHours / share,
  };
  if (o.json) {
    console.log(JSON.stringify({ ...result, workload: projection }));
    return;
  }
  console.log(
    `copy bandwidth ${(result.bandwidth / 1e12).toFixed(2)} TB/s; MATH500 x 32 (KV budget ` +
      `${gib(workload.kvBudgetBytes)} GiB): ${projection.floorHours.toFixed(2)} h at the floor, ` +
      `${projection.measuredHours.toFixed(2)} h at the trio's ${(100 * share).toFixed(1)}% of it`,
  );
}
