/**
 * Path coverage (the paper's measure of how little RAST departs from the base): the share of
 * decoding steps whose chosen token is the base model's own argmax. Counted by wrapping an
 * engine, so a run goes through the normal run path unchanged.
 */
import type { EngineEvent, GenerateOptions, GenerateRequest, RastEngine } from "../events.ts";

/** Steps seen, how many chose the base's argmax, and how many did not say. */
export interface PathCoverageCount {
  steps: number;
  baseArgmax: number;
  /** Token events without `stats.baseArgmax` (an engine built before it was reported). */
  unreported: number;
}

/** A zero count. */
export function emptyCount(): PathCoverageCount {
  return { steps: 0, baseArgmax: 0, unreported: 0 };
}

/** The share of steps on the base's argmax; null when none was counted or any did not say. */
export function pathCoverage(count: PathCoverageCount): number | null {
  return count.steps === 0 || count.unreported > 0 ? null : count.baseArgmax / count.steps;
}

/** `engine`, with every token event of its streams counted into `count` (passed unchanged). */
export function countingPathCoverage(engine: RastEngine, count: PathCoverageCount): RastEngine {
  return {
    async *generate(requests: GenerateRequest[], options: GenerateOptions) {
      for await (const event of engine.generate(requests, options)) {
        countEvent(event, count);
        yield event;
      }
    },
    decode: (ids) => engine.decode(ids),
    encode: (text) => engine.encode(text),
    close: () => engine.close(),
  };
}

function countEvent(event: EngineEvent, count: PathCoverageCount): void {
  if (event.kind !== "token") return;
  const argmax = (event.stats as { baseArgmax?: unknown }).baseArgmax;
  if (typeof argmax !== "number") {
    count.unreported++;
    return;
  }
  count.steps++;
  if (argmax === event.id) count.baseArgmax++;
}
