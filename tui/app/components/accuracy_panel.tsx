/** Running accuracy: mean, pass@k and maj@k so far, and the selected question's verdicts. */
import type { AccuracySummary, AtK, SampleVerdict } from "../accuracy.ts";
import { percent } from "../format.ts";
import { Lines, usePalette } from "./lines.tsx";

/** Props of AccuracyPanel. */
export interface AccuracyPanelProps {
  summary: AccuracySummary;
  /** The selected sample's request, its verdicts so far and its samples still running. */
  request?: number;
  verdicts?: ReadonlyMap<number, SampleVerdict>;
  liveSamples: readonly number[];
  /** Samples per request when known (the verdict strip's length). */
  samplesPerRequest?: number;
  width: number;
  height: number;
}

/** "acc 61.2% (49/80) · pass@4 72.0%", "maj@4 70.0%", "q12 ✓✗▸··" in up to three lines. */
export function AccuracyPanel(props: AccuracyPanelProps) {
  const palette = usePalette();
  if (props.height <= 0) return null;
  const { summary } = props;
  const atK = (name: string, list: AtK[]) =>
    list.map((m) => `${name}@${m.k} ${percent(m.value)}`).join(" · ");
  const strip = verdictStrip(props, palette);
  if (summary.graded === 0) {
    const lines = [palette.dim("accuracy: no graded sample yet"), strip];
    return <Lines lines={lines} width={props.width} height={props.height} />;
  }
  const mean = `acc ${palette.bold(percent(summary.mean))} (${summary.correct}/${summary.graded})`;
  const pass = atK("pass", summary.passAtK);
  const maj = atK("maj", summary.majAtK);
  const lines = props.height >= 3
    ? [`${mean} · ${pass}`, maj, strip]
    : [`${mean} · ${pass}`, `${strip}  ${maj}`];
  return <Lines lines={lines} width={props.width} height={props.height} />;
}

/** "q12 ✓✗▸·": one mark per sample, correct / wrong / running / not yet. */
function verdictStrip(
  props: AccuracyPanelProps,
  palette: { good(t: string): string; bad(t: string): string; accent(t: string): string },
): string {
  if (props.request === undefined) return "";
  const verdicts = props.verdicts ?? new Map<number, SampleVerdict>();
  const seen = Math.max(-1, ...verdicts.keys(), ...props.liveSamples) + 1;
  const count = Math.max(props.samplesPerRequest ?? 0, seen);
  let marks = "";
  for (let s = 0; s < count; s++) {
    const v = verdicts.get(s);
    if (v) marks += v.correct ? palette.good("✓") : palette.bad("✗");
    else if (props.liveSamples.includes(s)) marks += palette.accent("▸");
    else marks += "·";
  }
  return `q${props.request} ${marks}`;
}
