/**
 * The live counterpart of `rast analyze` for the TUI: path coverage (tokens equal to the base's
 * argmax) over the samples finished in this session plus those still running, and behaviour
 * counters over the finished answers' texts, with analyze's own counting rule.
 */
import {
  addCounts,
  type BehaviourCounts,
  type BehaviourList,
  countBehaviours,
} from "../analysis/behaviours.ts";

/** Totals over the samples finished (stop or length) in this session. */
export interface LiveAnalysis {
  behaviourList: BehaviourList;
  samples: number;
  tokens: number;
  onBasePath: number;
  behaviours: Readonly<BehaviourCounts>;
}

/** The totals before any sample finished. */
export function emptyAnalysis(list: BehaviourList): LiveAnalysis {
  const behaviours = Object.fromEntries(Object.keys(list).map((name) => [name, 0]));
  return { behaviourList: list, samples: 0, tokens: 0, onBasePath: 0, behaviours };
}

/** The totals with one more finished sample: its token counts and its answer text. */
export function addFinished(
  analysis: LiveAnalysis,
  sample: { tokens: number; onBasePath: number; text: string },
): LiveAnalysis {
  const counts = countBehaviours(sample.text, analysis.behaviourList);
  return {
    ...analysis,
    samples: analysis.samples + 1,
    tokens: analysis.tokens + sample.tokens,
    onBasePath: analysis.onBasePath + sample.onBasePath,
    behaviours: addCounts({ ...analysis.behaviours }, counts),
  };
}

/** Path coverage over the finished samples and the running ones given. */
export function liveCoverage(
  analysis: LiveAnalysis,
  running: Iterable<{ tokens: number; onBasePath: number }>,
): { tokens: number; onBasePath: number; share: number | null } {
  let tokens = analysis.tokens;
  let onBasePath = analysis.onBasePath;
  for (const s of running) {
    tokens += s.tokens;
    onBasePath += s.onBasePath;
  }
  return { tokens, onBasePath, share: tokens ? onBasePath / tokens : null };
}
