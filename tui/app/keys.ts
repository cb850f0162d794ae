/**
 * Every key binding of the live TUI, in one table: the input handler and the help overlay both
 * read it, so the help can never disagree with the keys.
 */
import type { Key } from "ink";

/** What a key asks for. */
export type KeyCommand =
  | "nextSample"
  | "previousSample"
  | "togglePause"
  | "toggleHeatmap"
  | "toggleStats"
  | "toggleChosen"
  | "toggleQuestion"
  | "toggleHelp"
  | "closeHelp"
  | "quit";

/** One row of the table: key names as the help shows them. */
export interface Binding {
  keys: readonly string[];
  command: KeyCommand;
  help: string;
}

/** The bindings, in the order the help overlay lists them. */
export const BINDINGS: readonly Binding[] = [
  { keys: ["tab", "right", "]"], command: "nextSample", help: "next active sample" },
  { keys: ["shift+tab", "left", "["], command: "previousSample", help: "previous active sample" },
  {
    keys: ["space", "p"],
    command: "togglePause",
    help: "pause / resume (stops pulling from the engine)",
  },
  { keys: ["h"], command: "toggleHeatmap", help: "show / hide the heatmap" },
  { keys: ["s"], command: "toggleStats", help: "show / hide the accuracy panel" },
  { keys: ["c"], command: "toggleChosen", help: "show / hide the chosen-token line" },
  { keys: ["i"], command: "toggleQuestion", help: "show / hide the question" },
  { keys: ["?"], command: "toggleHelp", help: "this help" },
  { keys: ["esc"], command: "closeHelp", help: "close the help" },
  { keys: ["q", "ctrl+c"], command: "quit", help: "quit (work so far is saved)" },
];

/** Whether Ink's (input, key) pair is the named key. */
function matches(name: string, input: string, key: Key): boolean {
  switch (name) {
    case "tab":
      return key.tab && !key.shift;
    case "shift+tab":
      return key.tab && key.shift;
    case "right":
      return key.rightArrow;
    case "left":
      return key.leftArrow;
    case "space":
      return input === " ";
    case "esc":
      return key.escape;
    case "ctrl+c":
      return key.ctrl && input === "c";
    default:
      return name.length === 1 && input === name && !key.ctrl && !key.meta;
  }
}

/** The command bound to a key press, if any. */
export function commandForKey(input: string, key: Key): KeyCommand | undefined {
  return BINDINGS.find((binding) => binding.keys.some((name) => matches(name, input, key)))
    ?.command;
}
