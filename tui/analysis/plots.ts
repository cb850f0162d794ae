/**
 * `rast analyze --plot`: the paper's figures from analysis.json as Vega-Lite charts, rendered to
 * SVG by Vega without a browser and rasterised to PNG by resvg with the system's fonts. Imported
 * lazily: analyze without --plot never loads Vega.
 */
import { join } from "node:path";
import { basename } from "node:path";
import type { Analysis } from "./mod.ts";

/** A Vega-Lite spec, as plain JSON. */
type Spec = Record<string, unknown>;

/** The label of a run in legends: its folder name. */
const runLabel = (dir: string) => basename(dir);

const FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif";
const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11 },
  legend: { labelLimit: 480, orient: "bottom", direction: "vertical" },
};

function passAtKSpec(analysis: Analysis): Spec | undefined {
  const values = analysis.runs.flatMap((r) =>
    r.passAtK.map((p) => ({ run: runLabel(r.dir), k: p.k, passAtK: p.value }))
  );
  if (values.length === 0) return undefined;
  return {
    title: "pass@k vs k",
    width: 420,
    height: 280,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "k", type: "quantitative", scale: { type: "log", base: 2 }, title: "k" },
      y: { field: "passAtK", type: "quantitative", scale: { domain: [0, 1] }, title: "pass@k" },
      color: { field: "run", type: "nominal", title: "run" },
    },
  };
}

function accuracyVsAlphaSpec(analysis: Analysis): Spec | undefined {
  const values = analysis.accuracyVsAlpha.filter((p) => p.accuracy !== null);
  if (values.length === 0) return undefined;
  return {
    title: "accuracy vs α",
    width: 420,
    height: 280,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "alpha", type: "quantitative", title: "α (sum of pair weights)" },
      y: { field: "accuracy", type: "quantitative", scale: { domain: [0, 1] }, title: "accuracy" },
      color: { field: "dataset", type: "nominal" },
    },
  };
}

function coverageByLevelSpec(analysis: Analysis): Spec | undefined {
  const values = analysis.runs.flatMap((r) => {
    const levels = Object.entries(r.pathCoverage.byLevel);
    const groups = levels.length ? levels : [["all", r.pathCoverage.all] as const];
    return groups.filter(([, c]) => c.share !== null).map(([level, c]) => ({
      run: runLabel(r.dir),
      level,
      share: c.share,
      tokens: c.tokens,
    }));
  });
  if (values.length === 0) return undefined;
  return {
    title: "path coverage by level (chosen token = base argmax)",
    width: 420,
    height: 280,
    data: { values },
    mark: "bar",
    encoding: {
      x: { field: "level", type: "ordinal", title: "level", sort: null, axis: { labelAngle: 0 } },
      xOffset: { field: "run", type: "nominal" },
      y: { field: "share", type: "quantitative", scale: { domain: [0, 1] }, title: "coverage" },
      color: { field: "run", type: "nominal" },
      tooltip: [{ field: "tokens" }],
    },
  };
}

function topTokensSpec(analysis: Analysis, top = 15): Spec | undefined {
  const run = analysis.runs.find((r) => r.tokens.boosted.length || r.tokens.suppressed.length);
  if (!run) return undefined;
  const label = (t: { id: number; text: string }) => `${JSON.stringify(t.text)} #${t.id}`;
  const values = [
    ...run.tokens.boosted.slice(0, top).map((t) => ({ ...t, token: label(t), kind: "boosted" })),
    ...run.tokens.suppressed.slice(0, top).map((t) => ({
      ...t,
      token: label(t),
      kind: "suppressed",
    })),
  ];
  return {
    title: `most boosted / suppressed chosen tokens · ${runLabel(run.dir)}`,
    width: 420,
    data: { values },
    mark: "bar",
    encoding: {
      y: { field: "token", type: "nominal", sort: "-x", title: null },
      x: { field: "totalDelta", type: "quantitative", title: "summed delta over the run" },
      color: {
        field: "kind",
        type: "nominal",
        scale: { domain: ["boosted", "suppressed"], range: ["#2a9d8f", "#e76f51"] },
      },
      tooltip: [{ field: "count" }, { field: "meanDelta" }],
    },
  };
}

/** The figures to draw: file stem → spec (figures without data are left out). */
export function figureSpecs(analysis: Analysis): Record<string, Spec> {
  const specs: Record<string, Spec | undefined> = {
    pass_at_k: passAtKSpec(analysis),
    accuracy_vs_alpha: accuracyVsAlphaSpec(analysis),
    path_coverage_by_level: coverageByLevelSpec(analysis),
    top_tokens: topTokensSpec(analysis),
  };
  return Object.fromEntries(Object.entries(specs).filter(([, s]) => s !== undefined)) as Record<
    string,
    Spec
  >;
}

/** Writes <stem>.svg and <stem>.png for each figure into `dir`; returns the PNG paths. */
export async function writeFigures(analysis: Analysis, dir: string): Promise<string[]> {
  const vega = await import("vega");
  const vegaLite = await import("vega-lite");
  const { Resvg } = await import("@resvg/resvg-js");
  const written: string[] = [];
  for (const [stem, spec] of Object.entries(figureSpecs(analysis))) {
    const full = {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      background: "white",
      config: CONFIG,
      ...spec,
    };
    // deno-lint-ignore no-explicit-any
    const compiled = vegaLite.compile(full as any).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: "none" });
    const svg = await view.toSVG(2);
    view.finalize();
    await Deno.writeTextFile(join(dir, `${stem}.svg`), svg);
    const png = new Resvg(svg, {
      font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
      fitTo: { mode: "zoom", value: 1 },
    }).render().asPng();
    const path = join(dir, `${stem}.png`);
    await Deno.writeFile(path, png);
    written.push(path);
  }
  return written;
}
