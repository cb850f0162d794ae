/** The heatmap strip: recent steps (columns, oldest left) × the tokens most boosted / suppressed. */
import type { Step } from "../state.ts";
import { type HeatRow, heatWindow } from "../heatmap.ts";
import { deltaLevel } from "../palette.ts";
import { padTo, tokenLabel, truncate } from "../text_layout.ts";
import { Lines, usePalette } from "./lines.tsx";

/** Bar glyphs by shade level (see deltaLevel); "·" marks a delta below the colour floor. */
const BARS = ["▁", "▃", "▄", "▆", "█"];
const LABEL_WIDTH = 10;

/** Props of HeatmapStrip. */
export interface HeatmapStripProps {
  steps: readonly Step[];
  rowsPerSign: number;
  width: number;
}

/** A title line, then `rowsPerSign` boosted rows (+) and `rowsPerSign` suppressed rows (−). */
export function HeatmapStrip(props: HeatmapStripProps) {
  const palette = usePalette();
  const height = 1 + 2 * props.rowsPerSign;
  const columns = Math.max(1, props.width - LABEL_WIDTH - 1);
  const window = heatWindow(props.steps, { columns, rowsPerSign: props.rowsPerSign });
  const title = truncate(
    `heatmap · last ${window.steps} steps · + boosted / - suppressed`,
    props.width,
  );
  const row = (r: HeatRow | undefined, sign: "+" | "-") => {
    if (!r) return "";
    const label = truncate(sign + tokenLabel(r.text), LABEL_WIDTH - 1);
    const cells = r.cells.map((delta) => {
      if (delta === null) return " ";
      const level = deltaLevel(delta);
      return palette.delta(level < 0 ? "·" : BARS[level], delta);
    }).join("");
    return padTo(label, LABEL_WIDTH) + cells;
  };
  const lines = [palette.dim(title)];
  for (let i = 0; i < props.rowsPerSign; i++) lines.push(row(window.boosted[i], "+"));
  for (let i = 0; i < props.rowsPerSign; i++) lines.push(row(window.suppressed[i], "-"));
  return <Lines lines={lines} width={props.width} height={height} />;
}
