/** Runs hand-checked grading cases through the Grader and lists every disagreement. */
import { Grader } from "../../datasets/grading/mod.ts";

/** [gold, prediction, expected verdict, note, dataset?] */
export type VerdictCase = [string, string, boolean, string, string?];

/** A realistic model output with its expected extracted answer and verdict. */
export interface OutputCase {
  note: string;
  output: string;
  gold: string;
  extracted: string;
  correct: boolean;
  dataset?: string;
}

/** Failures of (gold, prediction) cases graded with gradePred. */
export async function verdictFailures(cases: VerdictCase[]): Promise<string[]> {
  using grader = new Grader({ workers: 2 });
  const failures: string[] = [];
  for (const [gold, pred, correct, note, dataset = "math500"] of cases) {
    const v = await grader.gradePred(pred, gold, dataset);
    if (v.correct !== correct || v.timeout) {
      failures.push(
        `${note}: gold ${JSON.stringify(gold)} pred ${JSON.stringify(pred)} ` +
          `expected ${correct}, got ${v.correct}${v.timeout ? " (timeout)" : ""} ` +
          `[${JSON.stringify(v.extracted)} vs ${JSON.stringify(v.gold)}]`,
      );
    }
  }
  return failures;
}

/** Failures of full-output cases graded with grade (extraction + verdict). */
export async function outputFailures(cases: OutputCase[]): Promise<string[]> {
  using grader = new Grader({ workers: 2 });
  const failures: string[] = [];
  for (const c of cases) {
    const v = await grader.grade(c.output, c.gold, c.dataset ?? "math500");
    if (v.extracted !== c.extracted || v.correct !== c.correct) {
      failures.push(
        `${c.note}: expected ${JSON.stringify(c.extracted)} ${c.correct}, ` +
          `got ${JSON.stringify(v.extracted)} ${v.correct} (gold ${JSON.stringify(v.gold)})`,
      );
    }
  }
  return failures;
}
