/** The selected sample's answer as it streams in, each token coloured by its delta. */
import { type LiveSample, piecesOf } from "../state.ts";
import { tailLines } from "../text_layout.ts";
import { Lines, usePalette } from "./lines.tsx";

/** Props of AnswerStream. */
export interface AnswerStreamProps {
  sample?: LiveSample;
  /** Shown when there is no sample: why (waiting, all done). */
  idle: string;
  width: number;
  height: number;
}

/** The newest `height` lines of the answer: boosted tokens green-ish, suppressed red-ish. */
export function AnswerStream(props: AnswerStreamProps) {
  const palette = usePalette();
  if (props.height <= 0) return null;
  if (!props.sample) {
    return <Lines lines={[palette.dim(props.idle)]} width={props.width} height={props.height} />;
  }
  const lines = tailLines(piecesOf(props.sample), { width: props.width, height: props.height })
    .map((line) => line.map((segment) => palette.delta(segment.text, segment.delta)).join(""));
  return <Lines lines={lines} width={props.width} height={props.height} />;
}
