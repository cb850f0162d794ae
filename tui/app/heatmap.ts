/**
 * The heatmap window: the last `columns` steps of one sample × the tokens most boosted and most
 * suppressed over those steps. A token's row holds its delta at each step where it was in that
 * step's top-K list of the same sign, and null where it was not.
 */
import type { Step } from "./state.ts";

/** One token's row: its deltas over the window, oldest step first. */
export interface HeatRow {
  id: number;
  text: string;
  /** Sum of the deltas shown (the ranking score). */
  total: number;
  cells: (number | null)[];
}

/** The rows to draw, boosted (largest total first) and suppressed (most negative total first). */
export interface HeatWindow {
  /** Steps shown (the last `columns` of the steps given). */
  steps: number;
  boosted: HeatRow[];
  suppressed: HeatRow[];
}

/** Picks the window from a sample's recent steps; ties keep the token first seen. */
export function heatWindow(
  steps: readonly Step[],
  opts: { columns: number; rowsPerSign: number },
): HeatWindow {
  const shown = steps.slice(Math.max(0, steps.length - opts.columns));
  return {
    steps: shown.length,
    boosted: topRows(shown, "boosted", opts.rowsPerSign),
    suppressed: topRows(shown, "suppressed", opts.rowsPerSign),
  };
}

function topRows(steps: readonly Step[], sign: "boosted" | "suppressed", count: number): HeatRow[] {
  const rows = new Map<number, HeatRow>();
  steps.forEach((step, column) => {
    for (const token of step[sign]) {
      let row = rows.get(token.id);
      if (!row) {
        row = { id: token.id, text: token.text, total: 0, cells: steps.map(() => null) };
        rows.set(token.id, row);
      }
      row.cells[column] = token.delta;
      row.total += token.delta;
    }
  });
  const direction = sign === "boosted" ? -1 : 1;
  // Array.prototype.sort is stable, so equal totals keep first-seen order.
  return [...rows.values()].sort((a, b) => direction * (a.total - b.total)).slice(0, count);
}
