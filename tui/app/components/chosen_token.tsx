/** The chosen token of the selected sample: its probability under the base model vs under RAST. */
import type { ChosenToken } from "../state.ts";
import { prob, signed } from "../format.ts";
import { tokenLabel, truncate } from "../text_layout.ts";
import { Lines, usePalette } from "./lines.tsx";

/** Props of ChosenTokenPanel. */
export interface ChosenTokenProps {
  chosen?: ChosenToken;
  width: number;
  /** 1: one summary line; 3 or more: the token, then a bar for each probability. */
  height: number;
}

/** "chosen ␣The base 0.412 → rast 0.873 δ +2.31 H 1.20→0.40 KL 0.31", or that with bars. */
export function ChosenTokenPanel(props: ChosenTokenProps) {
  const palette = usePalette();
  if (props.height <= 0) return null;
  const c = props.chosen;
  if (!c) {
    return <Lines lines={[palette.dim("chosen: –")]} width={props.width} height={props.height} />;
  }
  const moved = c.combinedProb >= c.baseProb ? palette.good : palette.bad;
  const token = palette.delta(truncate(tokenLabel(c.text), 16), c.delta);
  const entropy = `H ${c.baseEntropy.toFixed(2)}→${c.combinedEntropy.toFixed(2)}`;
  const extras = `δ ${signed(c.delta)}  ${entropy}  KL ${c.kl.toFixed(2)}`;
  if (props.height < 3) {
    const line = `chosen ${token}  base ${prob(c.baseProb)} → rast ${
      moved(prob(c.combinedProb))
    }  ${extras}`;
    return <Lines lines={[line]} width={props.width} height={props.height} />;
  }
  const barWidth = Math.max(4, props.width - 12);
  const bar = (p: number) => "█".repeat(Math.round(p * barWidth)).padEnd(barWidth, "·");
  const lines = [
    `chosen ${token} (id ${c.id})  ${extras}`,
    `base ${prob(c.baseProb)} ${palette.dim(bar(c.baseProb))}`,
    `rast ${moved(prob(c.combinedProb))} ${moved(bar(c.combinedProb))}`,
  ];
  return <Lines lines={lines} width={props.width} height={props.height} />;
}
