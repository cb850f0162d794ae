/**
 * A deterministic stand-in for the RAST engine, behind the same RastEngine interface: each
 * sample's text depends only on (request seed, sample index, prompt ids), as the real engine's
 * does, so a resumed run must reproduce an uninterrupted one byte for byte. Tokens are UTF-8
 * bytes. Used in-process by the runs tests and, through RAST_ENGINE_MODULE, by the CLI tests.
 */
import type {
  EngineEvent,
  GenerateOptions,
  GenerateRequest,
  RastEngine,
  StepStats,
} from "../../engine/events.ts";

/** Knobs of the fake. */
export interface FakeEngineOptions {
  /** Samples decoded at once (round robin), like continuous batching. */
  maxConcurrent?: number;
  /** Wait this long (ms) after each token (default 0: no wait). */
  tokenDelayMs?: number;
}

/** A 32-bit mix of the inputs (the fake's own stand-in for seeded sampling). */
function mix(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    h = Math.imul(h ^ (v >>> 0), 0x01000193);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** The text the fake produces for one sample: a short "solution" ending in a boxed digit 0..3. */
export function fakeAnswerText(seed: number, sample: number, promptIds: number[]): string {
  const promptHash = mix(...promptIds);
  const h = mix(seed, sample, promptHash);
  return `Sample ${sample} thinks (${(h % 997).toString(36)}).\nSo the answer is \\boxed{${
    h % 4
  }}.`;
}

const STATS: StepStats = {
  baseLogprob: -1,
  combinedLogprob: -0.5,
  delta: 0.5,
  boosted: [],
  suppressed: [],
  baseEntropy: 1,
  combinedEntropy: 0.8,
  klCombinedBase: 0.1,
  baseArgmax: 0,
};

/** The fake engine; `requestsSeen` records every generate() call's requests. */
export class FakeRunEngine implements RastEngine {
  readonly requestsSeen: GenerateRequest[][] = [];
  closed = false;
  readonly #opts: FakeEngineOptions;

  constructor(opts: FakeEngineOptions = {}) {
    this.#opts = opts;
  }

  encode(text: string): number[] {
    return [...new TextEncoder().encode(text)];
  }

  decode(ids: number[]): string {
    return new TextDecoder().decode(new Uint8Array(ids));
  }

  close(): void {
    this.closed = true;
  }

  async *generate(
    requests: GenerateRequest[],
    options: GenerateOptions,
  ): AsyncGenerator<EngineEvent> {
    this.requestsSeen.push(structuredClone(requests));
    // Planned lazily, as the real scheduler does: a sample's state exists once it starts.
    const queue = requests.map((r) => ({
      r,
      pending: r.sampleIndices ?? Array.from({ length: r.samples }, (_, i) => i),
      taken: 0,
    }));
    const take = () => {
      while (queue.length && queue[0].taken === queue[0].pending.length) queue.shift();
      if (!queue.length) return undefined;
      const { r, pending } = queue[0];
      const sample = pending[queue[0].taken++];
      const own = [...new TextEncoder().encode(fakeAnswerText(r.seed, sample, r.promptIds))]
        .slice(0, options.maxTokens);
      // A resumed sample goes on after its checkpointed tokens, which stay as given: a wrong
      // checkpoint shows in the output.
      const restored = r.resume?.get(sample) ?? [];
      return {
        request: r.request,
        sample,
        promptTokens: r.promptIds.length,
        ids: [...restored, ...own.slice(restored.length)],
        at: restored.length,
      };
    };
    const waiting = () => queue.reduce((n, q) => n + q.pending.length - q.taken, 0);
    const active: NonNullable<ReturnType<typeof take>>[] = [];
    const maxConcurrent = this.#opts.maxConcurrent ?? 4;
    let cancelled = false;
    while (waiting() || active.length) {
      while (active.length < maxConcurrent && waiting()) {
        const next = take()!;
        active.push(next);
        yield {
          kind: "started",
          request: next.request,
          sample: next.sample,
          promptTokens: next.promptTokens,
        };
      }
      for (const seq of [...active]) {
        if (options.signal?.aborted) {
          cancelled = true;
          break;
        }
        const id = seq.ids[seq.at++];
        yield {
          kind: "token",
          request: seq.request,
          sample: seq.sample,
          id,
          text: String.fromCharCode(id),
          stats: STATS,
        };
        const delay = this.#opts.tokenDelayMs ?? 0;
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        if (seq.at === seq.ids.length) {
          active.splice(active.indexOf(seq), 1);
          yield {
            kind: "finished",
            request: seq.request,
            sample: seq.sample,
            reason: seq.ids.length === options.maxTokens ? "length" : "stop",
            text: this.decode(seq.ids),
            tokens: seq.ids,
          };
        }
      }
      if (cancelled) break;
      yield {
        kind: "progress",
        tokensPerSecond: 100,
        active: active.length,
        waiting: waiting(),
        memory: { blocksUsed: active.length, blocksTotal: 64, blockSize: 16 },
      };
    }
    for (const seq of active) {
      yield {
        kind: "finished",
        request: seq.request,
        sample: seq.sample,
        reason: "cancelled",
        text: this.decode(seq.ids.slice(0, seq.at)),
        tokens: seq.ids.slice(0, seq.at),
      };
    }
  }
}

/** Same signature as engine/mod.ts's openEngine; RAST_FAKE_TOKEN_DELAY_MS slows it down. */
export function openEngine(_opts: unknown): Promise<RastEngine> {
  const delay = Number(Deno.env.get("RAST_FAKE_TOKEN_DELAY_MS") ?? "0");
  return Promise.resolve(new FakeRunEngine({ tokenDelayMs: delay }));
}
