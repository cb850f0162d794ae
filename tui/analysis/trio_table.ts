/**
 * The miniarith table: which runs it needs (base alone, negative alone, positive alone, RAST at
 * three alphas) and what it reports from their metrics — mean accuracy with a 95% interval,
 * pass@k, the recovery ratio at alpha 1 and RAST's path coverage there.
 */
import { meanAccuracyCi95, type Metrics } from "../../datasets/grading/metrics.ts";

/** Alphas of the RAST rows (as printed and as JSON keys). */
export const TABLE_ALPHAS = ["0.5", "1.0", "1.5"] as const;

/** The run keys in table order: "base", "negative", "positive", "rast/0.5", ... */
export const TABLE_KEYS = ["base", "negative", "positive", ...TABLE_ALPHAS.map((a) => `rast/${a}`)];

/** The model folders of the trio. */
export interface TrioModels {
  base: string;
  negative: string;
  positive: string;
}

/** One run of the table: the model decoded and the steering pairs. */
export interface TableRun {
  key: string;
  model: string;
  pairs: { positive: string; negative: string; weight: number }[];
}

/** The six runs of the table, in TABLE_KEYS order. */
export function tableRuns(trio: TrioModels): TableRun[] {
  const alone = (key: "base" | "negative" | "positive"): TableRun => ({
    key,
    model: trio[key],
    pairs: [],
  });
  return [
    alone("base"),
    alone("negative"),
    alone("positive"),
    ...TABLE_ALPHAS.map((alpha) => ({
      key: `rast/${alpha}`,
      model: trio.base,
      pairs: [{ positive: trio.positive, negative: trio.negative, weight: Number(alpha) }],
    })),
  ];
}

/** One row's numbers. */
export interface TableRow {
  accuracy: number;
  ci95: [number, number];
  passAtK: Record<string, number>;
}

/** The table as `./rast demo --table --json` prints it. */
export interface TrioTable {
  dataset: string;
  questions: number;
  samples: number;
  base: TableRow;
  negative: TableRow;
  positive: TableRow;
  rast: Record<string, TableRow>;
  /** (RAST at alpha 1 − base) / (positive − negative); null when RL gained nothing. */
  rr: number | null;
  /** Share of RAST (alpha 1) steps on the base's argmax; null when no step was counted here. */
  pathCoverage: number | null;
  dirs: Record<string, string>;
}

function row(metrics: Metrics): TableRow {
  return {
    accuracy: metrics.meanAccuracy,
    ci95: meanAccuracyCi95(metrics.perQuestion),
    passAtK: metrics.passAtK,
  };
}

/** The table from each run's metrics and folder (keyed as TABLE_KEYS). */
export function trioTable(
  runs: Record<string, { metrics: Metrics; dir: string }>,
  opts: { pathCoverage: number | null },
): TrioTable {
  const get = (key: string) => {
    const run = runs[key];
    if (!run) throw new Error(`The table has no "${key}" run; run all of ${TABLE_KEYS.join(", ")}`);
    return run;
  };
  const base = row(get("base").metrics);
  const negative = row(get("negative").metrics);
  const positive = row(get("positive").metrics);
  const rast = Object.fromEntries(TABLE_ALPHAS.map((a) => [a, row(get(`rast/${a}`).metrics)]));
  const gain = positive.accuracy - negative.accuracy;
  const first = get("base").metrics;
  return {
    dataset: first.dataset,
    questions: first.questions,
    samples: first.samples,
    base,
    negative,
    positive,
    rast,
    rr: gain > 0 ? (rast["1.0"].accuracy - base.accuracy) / gain : null,
    pathCoverage: opts.pathCoverage,
    dirs: Object.fromEntries(TABLE_KEYS.map((key) => [key, get(key).dir])),
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The table as text: one line per run, then RR and path coverage. */
export function formatTrioTable(table: TrioTable): string {
  const ks = Object.keys(table.base.passAtK);
  const head = ["run", "accuracy", "95% interval", ...ks.map((k) => `pass@${k}`)];
  const line = (label: string, r: TableRow) => [
    label,
    pct(r.accuracy),
    `${pct(r.ci95[0])} – ${pct(r.ci95[1])}`,
    ...ks.map((k) => pct(r.passAtK[k])),
  ];
  const rows = [
    head,
    line("base alone", table.base),
    line("negative alone", table.negative),
    line("positive alone (RL)", table.positive),
    ...TABLE_ALPHAS.map((a) => line(`RAST α=${a}`, table.rast[a])),
  ];
  const widths = head.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const text = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
  const rr = table.rr === null
    ? "n/a (the positive is not better than the negative)"
    : table.rr.toFixed(2);
  const coverage = table.pathCoverage === null
    ? "n/a (the α=1.0 run was not generated in one go by this command)"
    : pct(table.pathCoverage);
  return [
    `${table.dataset}: ${table.questions} questions × ${table.samples} samples, temperature 1`,
    ...text,
    `recovery ratio RR = (RAST α=1.0 − base) / (positive − negative) = ${rr}`,
    `path coverage (RAST α=1.0 steps on the base's argmax) = ${coverage}`,
  ].join("\n");
}
