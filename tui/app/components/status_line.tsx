/** The bottom line: throughput, samples done / total, ETA, KV-cache memory, and the error lines. */
import type { Throughput } from "../state.ts";
import type { KvMemory } from "../../../engine/events.ts";
import { duration, rate } from "../format.ts";
import stringWidth from "string-width";
import { truncate } from "../text_layout.ts";
import { Lines, usePalette } from "./lines.tsx";

/** Props of StatusLine. */
export interface StatusLineProps {
  throughput: Throughput;
  memory?: KvMemory;
  active: number;
  waiting: number;
  paused: boolean;
  ended: boolean;
  quitting: boolean;
  width: number;
}

/** "1234 tok/s · 80/4000 samples · ETA 1h02m · KV 3.1 GiB/8.0 GiB · 8 active 4 waiting · ? help". */
export function StatusLine(props: StatusLineProps) {
  const palette = usePalette();
  const t = props.throughput;
  const state = props.quitting
    ? "saving and quitting…"
    : props.paused
    ? "paused (space resumes)"
    : "? help";
  // Essentials first; the rest only while the line still fits.
  let text = [
    `${rate(t.tokensPerSecond)} tok/s`,
    `${t.done}/${t.total} samples`,
    props.ended ? `done in ${duration(t.elapsedSeconds)}` : `ETA ${duration(t.etaSeconds)}`,
  ].join(" · ");
  const optional = [`${props.active} active ${props.waiting} waiting`];
  if (props.memory) {
    optional.unshift(`KV ${props.memory.blocksUsed}/${props.memory.blocksTotal} blocks`);
  }
  const room = props.width - state.length - 3;
  for (const part of optional) {
    if (stringWidth(`${text} · ${part}`) <= room) text += ` · ${part}`;
  }
  const line = truncate(text, room) + " · " + palette.accent(state);
  return <Lines lines={[line]} width={props.width} height={1} />;
}

/** The last engine errors, one line each, newest last. */
export function ErrorLines(props: { errors: readonly string[]; width: number; height: number }) {
  const palette = usePalette();
  if (props.height <= 0) return null;
  const shown = props.errors.slice(-props.height);
  const lines = shown.map((message) => palette.bad(truncate(`error: ${message}`, props.width)));
  return <Lines lines={lines} width={props.width} height={props.height} />;
}
