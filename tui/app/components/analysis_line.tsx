/** The live analysis line: path coverage of finished + running samples, behaviour counters. */
import { liveCoverage } from "../live_analysis.ts";
import type { TuiState } from "../state.ts";
import { percent } from "../format.ts";
import { Lines, usePalette } from "./lines.tsx";

/** Props of AnalysisLine. */
export interface AnalysisLineProps {
  state: TuiState;
  width: number;
}

/** "path 95.2% of 1234 tok · branching 3 · backtracking 1 · verification 2 (12 done)". */
export function AnalysisLine(props: AnalysisLineProps) {
  const palette = usePalette();
  const { analysis, samples } = props.state;
  const coverage = liveCoverage(analysis, samples.values());
  const path = coverage.share === null
    ? palette.dim("path —")
    : `path ${palette.bold(percent(coverage.share))} of ${coverage.tokens} tok`;
  const counters = Object.entries(analysis.behaviours).map(([name, n]) => `${name} ${n}`);
  const line = [path, ...counters].join(" · ") + palette.dim(` (${analysis.samples} done)`);
  return <Lines lines={[line]} width={props.width} height={1} />;
}
