/**
 * Line budgets for the live panels from the terminal size. The live region stays one line short
 * of the terminal height: when it fills the screen Ink clears and redraws everything (flicker).
 * Narrow or short terminals drop panels (heatmap first) before the answer gets under 3 lines;
 * wide ones put the heatmap and the stats beside the answer.
 */
import type { PanelName } from "./state.ts";

/** Width at which the side column appears. */
export const WIDE_COLUMNS = 110;

/** Lines (and widths) given to each panel; 0 lines = hidden. */
export interface Layout {
  columns: number;
  /** Width of the answer column (and the question above it). */
  mainWidth: number;
  /** Width of the side column; 0 when stacked. */
  sideWidth: number;
  header: number;
  question: number;
  answer: number;
  /** Title line + rowsPerSign boosted + rowsPerSign suppressed; 0 when hidden. */
  heatmap: number;
  heatRowsPerSign: number;
  chosen: number;
  stats: number;
  errors: number;
  status: number;
}

/** Plans the panels for a terminal of `columns` × `rows`. */
export function planLayout(
  opts: {
    columns: number;
    rows: number;
    panels: Readonly<Record<PanelName, boolean>>;
    errors: number;
  },
): Layout {
  const columns = Math.max(20, opts.columns);
  const usable = Math.max(6, opts.rows - 1);
  const wide = columns >= WIDE_COLUMNS;
  const sideWidth = wide ? Math.min(64, Math.floor(columns * 0.4)) : 0;
  const mainWidth = wide ? columns - sideWidth - 1 : columns;
  const errors = Math.min(opts.errors, usable >= 20 ? 2 : 1);
  let body = usable - 1 /* header */ - 1 /* status */ - errors;
  const roomy = opts.rows >= 32;
  let question = opts.panels.question ? (roomy ? 3 : 2) : 0;
  let chosen = opts.panels.chosen ? (wide ? 3 : 1) : 0;
  // The stats panel: accuracy lines, then the live analysis line.
  let stats = opts.panels.stats ? (roomy ? 4 : 3) : 0;
  let heatRowsPerSign = opts.panels.heatmap ? (roomy ? 5 : 3) : 0;
  const minAnswer = 3;

  if (wide) {
    // Side column: heatmap + chosen + stats; shrink the heatmap to fit the body height.
    const sideFixed = chosen + stats;
    heatRowsPerSign = Math.max(
      0,
      Math.min(heatRowsPerSign, Math.floor((body - sideFixed - 1) / 2)),
    );
    while (question > 0 && body - question < minAnswer) question--;
    return {
      columns,
      mainWidth,
      sideWidth,
      header: 1,
      question,
      answer: Math.max(1, body - question),
      heatmap: heatRowsPerSign > 0 ? 1 + 2 * heatRowsPerSign : 0,
      heatRowsPerSign,
      chosen: Math.min(chosen, body),
      stats: Math.min(stats, Math.max(0, body - chosen)),
      errors,
      status: 1,
    };
  }

  const stacked = () =>
    question + chosen + stats + (heatRowsPerSign > 0 ? 1 + 2 * heatRowsPerSign : 0);
  // Give up space in this order until the answer has its minimum.
  while (body - stacked() < minAnswer && heatRowsPerSign > 1) heatRowsPerSign--;
  if (body - stacked() < minAnswer) heatRowsPerSign = 0;
  while (body - stacked() < minAnswer && question > 0) question--;
  while (body - stacked() < minAnswer && stats > 1) stats--;
  if (body - stacked() < minAnswer) chosen = 0;
  if (body - stacked() < minAnswer) stats = 0;
  body = Math.max(1, body);
  return {
    columns,
    mainWidth,
    sideWidth,
    header: 1,
    question,
    answer: Math.max(1, body - stacked()),
    heatmap: heatRowsPerSign > 0 ? 1 + 2 * heatRowsPerSign : 0,
    heatRowsPerSign,
    chosen,
    stats,
    errors,
    status: 1,
  };
}
