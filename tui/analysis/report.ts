/** The text `rast analyze` prints: one block per run, then the α sweep and the similarities. */
import type { Analysis } from "./mod.ts";
import type { Coverage, RunAnalysis } from "./run_analysis.ts";

const pct = (x: number | null) => x === null ? "—" : `${(100 * x).toFixed(1)}%`;
const num = (x: number | null, digits = 3) => x === null ? "—" : x.toFixed(digits);
const cov = (c: Coverage) => `${pct(c.share)} of ${c.tokens}`;

function runBlock(run: RunAnalysis, top: number): string[] {
  const lines = [
    `${run.dir}`,
    `  ${run.dataset} · α ${run.alpha} · T ${run.temperature} · ${run.samples} samples ` +
    `(${run.samplesWithStats} with token stats) · accuracy ${pct(run.accuracy)}`,
  ];
  if (run.passAtK.length) {
    lines.push(`  ${run.passAtK.map((p) => `pass@${p.k} ${pct(p.value)}`).join(" · ")}`);
  }
  const pc = run.pathCoverage;
  if (pc.all.tokens > 0) {
    lines.push(
      `  path coverage ${cov(pc.all)} tokens · correct ${cov(pc.correct)} · ` +
        `incorrect ${cov(pc.incorrect)}`,
    );
    for (const [level, c] of Object.entries(pc.byLevel)) {
      const h = run.entropy.byLevel[level];
      lines.push(
        `    level ${level}: coverage ${cov(c)} · entropy base ${num(h.base)} → combined ${
          num(h.combined)
        }`,
      );
    }
    const h = run.entropy.all;
    lines.push(`  entropy (nats) base ${num(h.base)} → combined ${num(h.combined)}`);
    const list = (ts: RunAnalysis["tokens"]["boosted"]) =>
      ts.slice(0, top).map((t) =>
        `${JSON.stringify(t.text)}×${t.count} (${t.meanDelta.toFixed(2)})`
      )
        .join(" ");
    lines.push(`  boosted: ${list(run.tokens.boosted) || "—"}`);
    lines.push(`  suppressed: ${list(run.tokens.suppressed) || "—"}`);
  } else {
    lines.push("  no token stats (rerun with --save-stats for coverage, entropy and tokens)");
  }
  const behaviours = Object.entries(run.behaviours.categories).map(([name, b]) =>
    `${name} ${b.total} (${num(b.perSample, 2)}/sample, r ${num(b.correlation, 2)})`
  );
  lines.push(`  behaviours: ${behaviours.join(" · ")}`);
  return lines;
}

/** The printed summary of an analysis. */
export function formatAnalysis(analysis: Analysis, opts: { top?: number } = {}): string {
  const top = opts.top ?? 8;
  const lines = analysis.runs.flatMap((run) => [...runBlock(run, top), ""]);
  if (analysis.runs.length > 1) {
    lines.push("accuracy vs α:");
    for (const p of analysis.accuracyVsAlpha) {
      lines.push(`  ${p.dataset} α ${p.alpha}: ${pct(p.accuracy)}`);
    }
  }
  for (const s of analysis.similarity) {
    lines.push(
      `Δ similarity ${s.dir} vs ${s.reference}: cosine ${num(s.cosine)} over ${s.alignedTokens} ` +
        `aligned tokens of ${s.samples} samples`,
    );
  }
  return lines.join("\n").trimEnd();
}
