/**
 * Colour for the TUI as plain ANSI strings (256-colour palette), so that one switch turns every
 * escape off: with NO_COLOR the screen holds no escape codes at all, not even bold.
 */

/** Styling helpers; every one is the identity when colour is off. */
export interface Palette {
  enabled: boolean;
  /** Colour by a logit delta: green-ish when boosted, red-ish when suppressed, brighter when larger. */
  delta(text: string, delta: number): string;
  bold(text: string): string;
  dim(text: string): string;
  inverse(text: string): string;
  good(text: string): string;
  bad(text: string): string;
  accent(text: string): string;
}

const GREENS = [22, 28, 34, 40, 46];
const REDS = [52, 88, 124, 160, 196];
/** |delta| below this is drawn uncoloured (noise). */
export const DELTA_FLOOR = 0.25;
/** |delta| at or above this gets the brightest shade. */
export const DELTA_FULL = 4;

/** Shade 0..4 of a delta's size, or -1 below DELTA_FLOOR. Shared by the answer and the heatmap. */
export function deltaLevel(delta: number): number {
  const size = Math.abs(delta);
  if (!(size >= DELTA_FLOOR)) return -1;
  const t = Math.min(1, (size - DELTA_FLOOR) / (DELTA_FULL - DELTA_FLOOR));
  return Math.min(4, Math.floor(t * 5));
}

const sgr = (open: string, close: string) => (text: string) =>
  text === "" ? text : `\x1b[${open}m${text}\x1b[${close}m`;
const identity = (text: string) => text;

/** The palette for the given setting (see colorFromEnv). */
export function makePalette(enabled: boolean): Palette {
  if (!enabled) {
    return {
      enabled,
      delta: identity,
      bold: identity,
      dim: identity,
      inverse: identity,
      good: identity,
      bad: identity,
      accent: identity,
    };
  }
  return {
    enabled,
    delta(text, delta) {
      const level = deltaLevel(delta);
      if (level < 0 || text === "") return text;
      const shade = (delta > 0 ? GREENS : REDS)[level];
      return sgr(`38;5;${shade}`, "39")(text);
    },
    bold: sgr("1", "22"),
    dim: sgr("2", "22"),
    inverse: sgr("7", "27"),
    good: sgr("38;5;40", "39"),
    bad: sgr("38;5;160", "39"),
    accent: sgr("38;5;75", "39"),
  };
}

/** Colour unless NO_COLOR is set (non-empty, per no-color.org) or FORCE_COLOR is "0". */
export function colorFromEnv(env: { get(name: string): string | undefined } = Deno.env): boolean {
  const noColor = env.get("NO_COLOR");
  if (noColor !== undefined && noColor !== "") return false;
  return env.get("FORCE_COLOR") !== "0";
}
