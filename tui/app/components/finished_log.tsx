/** Finished samples, written once into the scrollback above the live panels (Ink's <Static>). */
import { Box, Static, Text } from "ink";
import type { FinishedEntry } from "../state.ts";
import { tailLines, visibleText } from "../text_layout.ts";

/** Screen rows of answer text per finished sample, at most. */
const MAX_TEXT_ROWS = 8;
import { usePalette } from "./lines.tsx";

/** Every finished sample so far; Static prints only the ones it has not printed yet. */
export function FinishedLog(props: { entries: readonly FinishedEntry[]; width: number }) {
  return (
    <Static items={props.entries as FinishedEntry[]}>
      {(entry, index) => <FinishedItem key={index} entry={entry} width={props.width} />}
    </Static>
  );
}

/** "✓ q12 s3 · stop · 512 tok · answer 42", then the end of the answer, indented. */
function FinishedItem(props: { entry: FinishedEntry; width: number }) {
  const palette = usePalette();
  const { entry } = props;
  const mark = entry.verdict === undefined
    ? "•"
    : entry.verdict.correct
    ? palette.good("✓")
    : palette.bad("✗");
  const parts = [`q${entry.request} s${entry.sample}`, entry.reason, `${entry.tokens} tok`];
  if (entry.verdict) parts.push(`answer ${entry.verdict.extracted ?? "(none)"}`);
  // Wrapped here, not by Ink, so continuation lines keep the indent.
  const wrapped = tailLines([{ text: visibleText(entry.text), delta: 0 }], {
    width: props.width - 2,
    height: MAX_TEXT_ROWS,
  });
  const body = wrapped.map((line) => `  ${line.map((s) => s.text).join("")}`).join("\n");
  return (
    <Box flexDirection="column" width={props.width}>
      <Text>{`${mark} ${palette.bold(parts.join(" · "))}`}</Text>
      {body.trim() === "" ? null : <Text>{palette.dim(body)}</Text>}
    </Box>
  );
}
