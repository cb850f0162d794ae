/**
 * Path coverage (the paper's measure of how little RAST departs from the base): the share of
 * decoding steps whose chosen token is the base model's own argmax (`stats.baseArgmax`, after
 * the vocabulary cut). Counted by wrapping an engine, so a run goes through the normal run path
 * unchanged.
 */
import type {
  EngineEvent,
  GenerateOptions,
  GenerateRequest,
  RastEngine,
} from "../../engine/events.ts";
import { requireStats } from "../../engine/events.ts";

/** Steps seen and how many chose the base's argmax. */
export interface PathCoverageCount {
  steps: number;
  baseArgmax: number;
}

/** A zero count. */
export function emptyCount(): PathCoverageCount {
  return { steps: 0, baseArgmax: 0 };
}

/** The share of steps on the base's argmax; null when no step was counted. */
export function pathCoverage(count: PathCoverageCount): number | null {
  return count.steps === 0 ? null : count.baseArgmax / count.steps;
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
  count.steps++;
  if (requireStats(event.stats).baseArgmax === event.id) count.baseArgmax++;
}
