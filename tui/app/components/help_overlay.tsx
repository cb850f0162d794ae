/** The key help, drawn in place of the panels while `?` is on. It reads the one binding table. */
import { BINDINGS } from "../keys.ts";
import { padTo } from "../text_layout.ts";
import { Lines, usePalette } from "./lines.tsx";

/** The key list, cut to `height` lines. */
export function HelpOverlay(props: { width: number; height: number }) {
  const palette = usePalette();
  const keyWidth = Math.max(...BINDINGS.map((b) => b.keys.join(", ").length)) + 2;
  const lines = [palette.bold("keys (? or esc closes)")];
  for (const binding of BINDINGS) {
    lines.push(palette.accent(padTo(binding.keys.join(", "), keyWidth)) + binding.help);
  }
  return <Lines lines={lines} width={props.width} height={props.height} />;
}
