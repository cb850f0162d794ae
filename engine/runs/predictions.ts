/**
 * prediction-<i>.jsonl in the authors' format: one line per row of the run, in data file order,
 * `{"question", "model_output", "answer"}` (+ `"difficulty"`, the row's level, for math500).
 */
import { sampleKey, type SampleRecord } from "./journal.ts";
import type { RunDataset } from "./plan.ts";

/** The whole text of prediction-<sample>.jsonl; every row must have its record. */
export function predictionFileText(
  dataset: RunDataset,
  sample: number,
  records: ReadonlyMap<string, SampleRecord>,
): string {
  const lines = dataset.rows.map((row) => {
    const record = records.get(sampleKey(row.index, sample));
    if (!record) throw new Error(`Row ${row.index} has no sample ${sample} yet`);
    const line: Record<string, unknown> = {
      question: row.question,
      model_output: record.output,
      answer: row.gold,
    };
    if (dataset.name === "math500") line.difficulty = row.fields.level;
    return JSON.stringify(line);
  });
  return lines.join("\n") + "\n";
}
