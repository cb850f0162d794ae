/**
 * prediction-<i>.jsonl in the authors' format: one line per row of the run, in data file order,
 * `{"question", "model_output", "answer"}` (+ `"difficulty"`, the row's level, for math500).
 * In the authors' layout the fields are what their run.py wrote: "question" is the whole prompt
 * (vLLM's output.prompt) and "answer" the row's raw answer field (OlympiadBench's final_answer[0]).
 */
import { sampleKey, type SampleRecord } from "./journal.ts";
import type { Layout } from "./layout.ts";
import type { RunDataset } from "./plan.ts";

/** How the lines are written: the layout, and the rendered prompt of each row (same order). */
export interface PredictionFormat {
  layout: Layout;
  prompts: readonly string[];
}

/** The raw answer field of a row as the authors' run.py wrote it, falling back to the gold. */
function authorsAnswer(row: RunDataset["rows"][number]): unknown {
  const finals = row.fields.final_answer;
  if (Array.isArray(finals) && finals.length > 0) return finals[0];
  return row.fields.answer ?? row.gold;
}

/** The whole text of prediction-<sample>.jsonl; every row must have its record. */
export function predictionFileText(
  dataset: RunDataset,
  sample: number,
  records: ReadonlyMap<string, SampleRecord>,
  format: PredictionFormat = { layout: "rast", prompts: [] },
): string {
  const authors = format.layout === "authors";
  const lines = dataset.rows.map((row, i) => {
    const record = records.get(sampleKey(row.index, sample));
    if (!record) throw new Error(`Row ${row.index} has no sample ${sample} yet`);
    const line: Record<string, unknown> = {
      question: authors ? format.prompts[i] : row.question,
      model_output: record.output,
      answer: authors ? authorsAnswer(row) : row.gold,
    };
    if (dataset.name === "math500") line.difficulty = row.fields.level;
    return JSON.stringify(line);
  });
  return lines.join("\n") + "\n";
}
