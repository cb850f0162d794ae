/**
 * The debugger's top-k lists side by side (base, each pair's positive and negative, combined),
 * wrapping into more rows on narrow terminals, and the step's largest logit deltas.
 */
import { Box } from "ink";
import type { TokenDelta } from "../../../engine/events.ts";
import type { DebugStep, TopToken } from "../../../engine/debugger.ts";
import { prob, signed } from "../format.ts";
import { padTo, tokenLabel, truncate } from "../text_layout.ts";
import { Lines, usePalette } from "./lines.tsx";

/** One titled list. */
export interface TopList {
  title: string;
  tokens: readonly TopToken[];
}

/** Narrowest column: a mark, a few characters of token, a space and "0.412". */
const MIN_COLUMN = 14;

/** The lists of a step, in screen order. */
export function listsOf(step: DebugStep): TopList[] {
  const many = step.pairs.length > 1;
  return [
    { title: "base", tokens: step.base },
    ...step.pairs.flatMap((pair, i) => [
      { title: `pos${many ? i + 1 : ""} ×${pair.weight}`, tokens: pair.positive },
      { title: `neg${many ? i + 1 : ""} ×${pair.weight}`, tokens: pair.negative },
    ]),
    { title: "rast (combined)", tokens: step.combined },
  ];
}

/** Lines used by TopListGrid for `lists` lists of `k` tokens at `width` columns. */
export function gridHeight(lists: number, k: number, width: number): number {
  const perRow = Math.max(1, Math.min(lists, Math.floor(width / MIN_COLUMN)));
  return Math.ceil(lists / perRow) * (k + 1);
}

/** Props of TopListGrid. */
export interface TopListGridProps {
  lists: readonly TopList[];
  /** Marked "›" wherever it appears. */
  chosenId: number;
  k: number;
  width: number;
}

/** Columns of "› token 0.412" under each list's title; the chosen token is marked. */
export function TopListGrid(props: TopListGridProps) {
  const palette = usePalette();
  const perRow = Math.max(1, Math.min(props.lists.length, Math.floor(props.width / MIN_COLUMN)));
  const columnWidth = Math.floor(props.width / perRow);
  const labelWidth = columnWidth - 8;
  const rows: TopList[][] = [];
  for (let i = 0; i < props.lists.length; i += perRow) rows.push(props.lists.slice(i, i + perRow));
  const column = (list: TopList) => {
    const lines = [palette.bold(truncate(list.title, columnWidth - 1))];
    for (const token of list.tokens.slice(0, props.k)) {
      const chosen = token.id === props.chosenId;
      const label = padTo(truncate(tokenLabel(token.text), labelWidth), labelWidth);
      const text = `${chosen ? "›" : " "}${label} ${prob(token.prob)}`;
      lines.push(chosen ? palette.accent(text) : text);
    }
    return lines;
  };
  return (
    <Box flexDirection="column" flexShrink={0}>
      {rows.map((row, r) => (
        <Box key={r} flexDirection="row">
          {row.map((list, c) => (
            <Lines key={c} lines={column(list)} width={columnWidth} height={props.k + 1} />
          ))}
        </Box>
      ))}
    </Box>
  );
}

/** Two lines: the tokens the pairs push up most and push down most, with their deltas. */
export function DeltaLines(props: { step: DebugStep; width: number }) {
  const palette = usePalette();
  const { boosted, suppressed } = props.step.stats;
  if (props.step.pairs.length === 0) {
    return <Lines lines={[palette.dim("δ: no steering pairs")]} width={props.width} height={2} />;
  }
  const line = (label: string, tokens: readonly TokenDelta[]) =>
    label +
    tokens.map((t) =>
      `${palette.delta(truncate(tokenLabel(t.text), 10), t.delta)} ${signed(t.delta)}`
    ).join("  ");
  const lines = [line("δ+ ", boosted), line("δ− ", suppressed)];
  return <Lines lines={lines} width={props.width} height={2} />;
}
