/**
 * Lays coloured answer pieces out into terminal lines (word wrap at the panel width, hard breaks
 * at "\n") and keeps the last lines, so the answer panel always shows the newest text and never
 * grows past its budget. Model text is shown literally: control characters become U+FFFD.
 */
import stringWidth from "string-width";
import type { Piece } from "./state.ts";

/** A run of characters produced by tokens with the same delta. */
export interface Segment {
  text: string;
  delta: number;
}

/** One screen line of segments. */
export type Line = Segment[];

interface Cell {
  ch: string;
  width: number;
  delta: number;
}

/** The last `height` lines of the pieces wrapped at `width` columns. */
export function tailLines(
  pieces: readonly Piece[],
  opts: { width: number; height: number },
): Line[] {
  const width = Math.max(1, opts.width);
  if (opts.height <= 0) return [];
  const cells = tailCells(pieces, width * opts.height * 4, opts.height);
  const lines: Cell[][] = [[]];
  let used = 0;
  for (const cell of cells) {
    let line = lines[lines.length - 1];
    if (cell.ch === "\n") {
      lines.push([]);
      used = 0;
      continue;
    }
    if (used + cell.width > width) {
      // Break after the last space when there is one, else mid-word.
      const space = lastIndexOfSpace(line);
      const carried = space > 0 ? line.splice(space + 1) : [];
      line = carried;
      lines.push(line);
      used = carried.reduce((sum, c) => sum + c.width, 0);
      if (cell.ch === " " && line.length === 0) continue;
    }
    line.push(cell);
    used += cell.width;
  }
  return lines.slice(Math.max(0, lines.length - opts.height)).map(toSegments);
}

/** The cells of the text's tail: back to just after the (height+1)-th newline from the end, or
 * about `maxChars` characters, whichever comes first. */
function tailCells(pieces: readonly Piece[], maxChars: number, height: number): Cell[] {
  let first = pieces.length;
  let chars = 0;
  let newlines = 0;
  while (first > 0 && chars < maxChars && newlines <= height) {
    first--;
    chars += pieces[first].text.length;
    for (const ch of pieces[first].text) if (ch === "\n") newlines++;
  }
  const cells: Cell[] = [];
  for (let i = first; i < pieces.length; i++) {
    for (const raw of pieces[i].text) {
      const ch = printable(raw);
      if (ch === "") continue;
      if (ch === "\t") {
        cells.push({ ch: " ", width: 1, delta: pieces[i].delta });
        cells.push({ ch: " ", width: 1, delta: pieces[i].delta });
        continue;
      }
      cells.push({ ch, width: ch === "\n" ? 0 : charWidth(ch), delta: pieces[i].delta });
    }
  }
  // Drop a partial first hard line when the walk stopped on newlines, so wrapping starts clean.
  if (newlines > height) {
    const cut = cells.findIndex((c) => c.ch === "\n");
    return cells.slice(cut + 1);
  }
  return cells;
}

function printable(ch: string): string {
  if (ch === "\n" || ch === "\t") return ch;
  if (ch === "\r") return "";
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return "\ufffd";
  return ch;
}

function charWidth(ch: string): number {
  const code = ch.codePointAt(0) ?? 0;
  if (code < 0x7f) return 1;
  return stringWidth(ch);
}

function lastIndexOfSpace(line: Cell[]): number {
  for (let i = line.length - 1; i >= 0; i--) if (line[i].ch === " ") return i;
  return -1;
}

function toSegments(cells: Cell[]): Line {
  const segments: Line = [];
  for (const cell of cells) {
    const last = segments[segments.length - 1];
    if (last && last.delta === cell.delta) last.text += cell.ch;
    else segments.push({ text: cell.ch, delta: cell.delta });
  }
  return segments;
}

/** Cuts text to at most `width` columns, ending with "…" when cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  if (stringWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    const w = charWidth(ch);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return out + "…";
}

/** The text on one line: newlines and control characters shown as spaces / U+FFFD. */
export function oneLine(text: string): string {
  let out = "";
  for (const ch of text) {
    const p = printable(ch);
    out += p === "\n" || p === "\t" ? " " : p;
  }
  return out;
}

/** Plain text word-wrapped at `width`, at most `height` lines, the last ending "…" when cut. */
export function headLines(text: string, opts: { width: number; height: number }): string[] {
  if (opts.height <= 0) return [];
  const all = tailLines([{ text, delta: 0 }], { width: opts.width, height: Infinity })
    .map((line) => line.map((segment) => segment.text).join(""));
  if (all.length <= opts.height) return all;
  const shown = all.slice(0, opts.height);
  const last = shown[shown.length - 1].trimEnd();
  shown[shown.length - 1] = truncate(last + " …", opts.width);
  return shown;
}

/** A token's text made visible on one line: space "␣", newline "⏎", tab "⇥", empty "∅". */
export function tokenLabel(text: string): string {
  if (text === "") return "∅";
  let out = "";
  for (const ch of text) {
    if (ch === " ") out += "␣";
    else if (ch === "\n") out += "⏎";
    else if (ch === "\t") out += "⇥";
    else out += printable(ch) === "" ? "" : printable(ch);
  }
  return out;
}

/** Pads with spaces to `width` columns (by display width, not string length). */
export function padTo(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - stringWidth(text)));
}

/** Multi-line model text made safe to print: control characters become U+FFFD, tabs 2 spaces. */
export function visibleText(text: string): string {
  let out = "";
  for (const ch of text) {
    const p = printable(ch);
    out += p === "\t" ? "  " : p;
  }
  return out;
}
