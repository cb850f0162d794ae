/** Number formats shared by the panels, the progress line and the metrics table. */

/** 0.6125 → "61.3%"; undefined → "–". */
export function percent(value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? "–" : `${(value * 100).toFixed(digits)}%`;
}

/** Seconds as "42s", "3m05s", "1h02m", "2d03h"; undefined → "–". */
export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d${pad(Math.floor((s % 86400) / 3600))}h`;
}

/** Bytes in binary units with one decimal: 3.1 GiB. */
export function bytes(value: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = value;
  let unit = 0;
  while (Math.abs(v) >= 1024 && unit < units.length - 1) {
    v /= 1024;
    unit++;
  }
  return unit === 0 ? `${v} B` : `${v.toFixed(1)} ${units[unit]}`;
}

/** Tokens per second: one decimal under 100, whole numbers above. */
export function rate(perSecond: number): string {
  return perSecond < 100 ? perSecond.toFixed(1) : Math.round(perSecond).toString();
}

/** A probability as "0.412". */
export function prob(p: number): string {
  return p.toFixed(3);
}

/** A signed delta: "+2.31" / "-0.40". */
export function signed(value: number, digits = 2): string {
  return `${value >= 0 ? "+" : "-"}${Math.abs(value).toFixed(digits)}`;
}
