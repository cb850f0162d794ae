/**
 * The `rast debug` screen, drawn from the latest DebugStep: header, question, chosen token,
 * the top-k lists, the largest deltas, the answer so far (coloured by delta) and the key line.
 * Pure: tests render it from a DebugStep directly.
 */
import { Box } from "ink";
import type { DebugStep } from "../../../engine/debugger.ts";
import type { Piece } from "../piece_tail.ts";
import type { ChosenToken } from "../state.ts";
import { headLines, oneLine, tailLines, truncate } from "../text_layout.ts";
import { ChosenTokenPanel } from "./chosen_token.tsx";
import { Lines, usePalette } from "./lines.tsx";
import { DeltaLines, gridHeight, listsOf, TopListGrid } from "./top_lists.tsx";

/** Props of DebugView. */
export interface DebugViewProps {
  /** The latest step (none before the first). */
  step?: DebugStep;
  /** The answer so far, one piece per token, for colouring. */
  pieces: readonly Piece[];
  question: string;
  title: string;
  /** Right of the key line: "ready", "decoding…", "finished (stop)". */
  status: string;
  /** Tokens shown per list. */
  k: number;
  columns: number;
  rows: number;
}

/** The key line's text; kept beside the view so the screen and the handler agree. */
export const DEBUG_KEYS = "space/enter/s step · n sentence · e end · q quit";

/** The whole debugger screen; see the module comment. */
export function DebugView(props: DebugViewProps) {
  const palette = usePalette();
  const width = Math.max(20, props.columns);
  const { step } = props;
  const header = `rast debug · ${props.title}` +
    (step ? ` · step ${step.step} · ${step.step + 1} tok` : "");
  const questionLines = headLines(`Q ${oneLine(props.question)}`, { width, height: 2 });
  const lists = step ? listsOf(step) : [];
  const gridLines = step ? gridHeight(lists.length, props.k, width) : 0;
  const fixed = 1 + questionLines.length + 1 + gridLines + (step ? 2 : 0) + 1;
  const answerHeight = Math.max(1, props.rows - fixed - 1);
  const answer = props.pieces.length === 0
    ? [palette.dim("(no tokens yet: press space to decode one)")]
    : tailLines(props.pieces, { width, height: answerHeight })
      .map((line) => line.map((s) => palette.delta(s.text, s.delta)).join(""));
  const keys = truncate(`${DEBUG_KEYS} · ${props.status}`, width);
  return (
    <Box flexDirection="column" width={width}>
      <Lines lines={[palette.bold(truncate(header, width))]} width={width} height={1} />
      <Lines lines={questionLines} width={width} height={questionLines.length} />
      <ChosenTokenPanel chosen={step && chosenOf(step)} width={width} height={1} />
      {step && <TopListGrid lists={lists} chosenId={step.chosen.id} k={props.k} width={width} />}
      {step && <DeltaLines step={step} width={width} />}
      <Lines lines={answer} width={width} height={answerHeight} />
      <Lines lines={[palette.accent(keys)]} width={width} height={1} />
    </Box>
  );
}

/** The chosen-token line's data, as the live TUI shows it. */
function chosenOf(step: DebugStep): ChosenToken {
  return {
    id: step.chosen.id,
    text: step.chosen.text,
    baseProb: step.chosen.baseProb,
    combinedProb: step.chosen.combinedProb,
    delta: step.chosen.delta,
    baseEntropy: step.stats.baseEntropy,
    combinedEntropy: step.stats.combinedEntropy,
    kl: step.stats.klCombinedBase,
  };
}
