/**
 * `rast debug --batch`'s output: one compact line per step (chosen token, its base and combined
 * probability, delta, entropies, the combined top tokens), under a header line. Plain text.
 */
import type { DebugStep } from "../../engine/debugger.ts";
import { prob, signed } from "./format.ts";
import { padTo, tokenLabel, truncate } from "./text_layout.ts";

const TOKEN_WIDTH = 14;

/** The table's header line, aligned with debugStepLine. */
export const DEBUG_TABLE_HEADER = `${"step".padStart(5)} ${"id".padStart(7)} ${
  padTo("token", TOKEN_WIDTH)
} ${"base".padStart(5)} ${"rast".padStart(5)} ${"delta".padStart(6)} ${
  padTo("H base→rast", 11)
}  top rast`;

/** One step as a table line: "   12     279 ␣the           0.123 0.456  +1.23  2.10→1.50  …". */
export function debugStepLine(step: DebugStep, topCount = 3): string {
  const c = step.chosen;
  const entropy = `${step.stats.baseEntropy.toFixed(2)}→${step.stats.combinedEntropy.toFixed(2)}`;
  const top = step.combined.slice(0, topCount)
    .map((t) => `${truncate(tokenLabel(t.text), 10)} ${prob(t.prob)}`).join(", ");
  return [
    String(step.step).padStart(5),
    String(c.id).padStart(7),
    padTo(truncate(tokenLabel(c.text), TOKEN_WIDTH), TOKEN_WIDTH),
    prob(c.baseProb),
    prob(c.combinedProb),
    signed(c.delta).padStart(6),
    padTo(entropy, 11),
    ` ${top}${step.finished ? `  [${step.finished}]` : ""}`,
  ].join(" ");
}
