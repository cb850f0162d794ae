/**
 * Reading what a group step hands back per sequence (rast.h): its statistics row as StepStats,
 * a non-finite code as a message naming the model, and where a stop string ends the text. The
 * decoder and the step debugger read steps alike.
 */
import type { StepStats } from "./events.ts";
import type { RastGroup } from "./group.ts";

/** One sequence's statistics row (RAST_STATS_WIDTH(k) floats) as StepStats. */
export function decodeStats(
  row: Float32Array,
  k: number,
  tokenText: (id: number) => string,
): StepStats {
  const list = (idsAt: number, deltasAt: number) =>
    Array.from({ length: k }, (_, j) => {
      const id = row[idsAt + j];
      return { id, text: tokenText(id), delta: row[deltasAt + j] };
    });
  return {
    baseLogprob: row[0],
    combinedLogprob: row[1],
    delta: row[2],
    baseEntropy: row[3],
    combinedEntropy: row[4],
    klCombinedBase: row[5],
    baseArgmax: row[6],
    boosted: list(7, 7 + k),
    suppressed: list(7 + 2 * k, 7 + 3 * k),
  };
}

/** The shim's code for a row with NaN / infinite logits (rast.h) as a message naming the model. */
export function nonFiniteMessage(group: RastGroup, code: number, step: number): string {
  const m = -1 - code; // 0 base, 1 + 2i positive i, 2 + 2i negative i
  const { base, pairs } = group;
  const pair = Math.floor((m - 1) / 2);
  const [role, model] = m === 0
    ? ["base model", base]
    : m % 2 === 1
    ? [`positive model ${pair + 1}`, pairs[pair].positive]
    : [`negative model ${pair + 1}`, pairs[pair].negative];
  return `Non-finite logits (NaN or infinity) from the ${role} "${model.info.dir}" at generated token ${step}; check that checkpoint's weights`;
}

/** Index where a stop string starts in text, looking only where the new piece could complete one. */
export function findStop(text: string, pieceLength: number, stops: string[]): number {
  let best = -1;
  for (const stop of stops) {
    const from = Math.max(0, text.length - pieceLength - stop.length + 1);
    const at = text.indexOf(stop, from);
    if (at >= 0 && (best < 0 || at < best)) best = at;
  }
  return best;
}
