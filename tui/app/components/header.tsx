/** The top line (what runs, which sample is shown, paused or not) and the question panel. */
import { Box } from "ink";
import type { LiveSample } from "../state.ts";
import { headLines, oneLine, truncate } from "../text_layout.ts";
import { Lines, usePalette } from "./lines.tsx";

/** Props of Header. */
export interface HeaderProps {
  title?: string;
  sample?: LiveSample;
  /** Position of the shown sample among the live ones (1-based) and their count. */
  position: number;
  live: number;
  paused: boolean;
  width: number;
}

/** One line: "rast · title · q12 s3 · 412 tok · 2/8 live" and the paused mark. */
export function Header(props: HeaderProps) {
  const palette = usePalette();
  const parts = ["rast"];
  if (props.title) parts.push(props.title);
  if (props.sample) {
    parts.push(`q${props.sample.request} s${props.sample.sample}`);
    parts.push(`${props.sample.tokens} tok`);
    parts.push(`${props.position}/${props.live} live`);
  } else {
    parts.push(props.live === 0 ? "no live sample" : `${props.live} live`);
  }
  const mark = props.paused ? " ⏸ PAUSED" : "";
  const text = truncate(parts.join(" · "), props.width - mark.length);
  const line = palette.bold(text) + (props.paused ? palette.inverse(mark) : "");
  return <Lines lines={[line]} width={props.width} height={1} />;
}

/** Props of QuestionPanel. */
export interface QuestionPanelProps {
  request?: number;
  question?: string;
  width: number;
  height: number;
}

/** The selected sample's question, cut to its lines. */
export function QuestionPanel(props: QuestionPanelProps) {
  const palette = usePalette();
  if (props.height <= 0) return null;
  const label = props.request === undefined ? "Q " : `Q${props.request} `;
  const text = props.question === undefined ? "(no question text)" : oneLine(props.question);
  const lines = headLines(label + text, { width: props.width, height: props.height });
  lines[0] = palette.accent(label) + lines[0].slice(label.length);
  return (
    <Box flexShrink={0}>
      <Lines lines={lines} width={props.width} height={props.height} />
    </Box>
  );
}
