/** Shared pieces of the panels: the palette context and a fixed-height block of lines. */
import { createContext, useContext } from "react";
import { Box, Text } from "ink";
import { makePalette, type Palette } from "../palette.ts";

/** The palette in use (colour or none), set once by the app. */
export const PaletteContext = createContext<Palette>(makePalette(false));

/** The palette in use. */
export function usePalette(): Palette {
  return useContext(PaletteContext);
}

/** Exactly `height` lines of `width` columns: extra lines are dropped, long ones cut with "…". */
export function Lines(props: { lines: readonly string[]; width: number; height: number }) {
  const shown = props.lines.slice(0, props.height);
  return (
    <Box flexDirection="column" width={props.width} height={props.height} flexShrink={0}>
      {shown.map((line, i) => <Text key={i} wrap="truncate-end">{line === "" ? " " : line}</Text>)}
    </Box>
  );
}
