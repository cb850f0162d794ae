/**
 * How far rast's grader agrees with the authors' Python harness on the grader corpus
 * (test/data/grader_corpus.jsonl.gz, verdicts in grader_verdicts.jsonl.gz; see make_corpus.py
 * and harness_verdicts.py beside this file). The README's figure is the one in
 * test/data/grader_agreement.json; test/grade_corpus_test.ts fails when a change grades worse.
 *
 *   deno run -A scripts/grader_corpus/agreement.ts           # measure and print
 *   deno run -A scripts/grader_corpus/agreement.ts --write   # and record it as the quoted figure
 */
import { fileURLToPath } from "node:url";
import { Grader } from "../../datasets/grading/mod.ts";

const DATA = new URL("../../test/data/", import.meta.url);
/** The quoted figure: the README's numbers come from this file. */
export const QUOTED_FILE = fileURLToPath(new URL("grader_agreement.json", DATA));

/** One corpus case (make_corpus.py). */
interface CorpusCase {
  id: number;
  dataset: string;
  index: number;
  kind: string;
  gold: string;
  output: string;
}

/** The harness's outcome for one case (harness_verdicts.py). */
interface HarnessVerdict {
  id: number;
  gold: string;
  pred: string | null;
  correct: boolean;
  timeout: boolean;
}

/** Counts out of `cases`: verdicts, extracted answers and normalised golds equal to the harness's. */
export interface Agreement {
  cases: number;
  verdicts: number;
  extraction: number;
  gold: number;
}

/** A case where rast and the harness differ in any of the three. */
export interface Disagreement {
  id: number;
  dataset: string;
  kind: string;
  harness: { gold: string; pred: string | null; correct: boolean; timeout: boolean };
  rast: { gold: string; extracted: string; correct: boolean; timeout: boolean };
}

async function readJsonlGz<T>(dir: URL, name: string): Promise<T[]> {
  const file = await Deno.open(new URL(name, dir));
  const text = await new Response(file.readable.pipeThrough(new DecompressionStream("gzip")))
    .text();
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as T);
}

/** Grade the whole corpus (in `dir`, default test/data/) with rast's grader and compare with the harness, case by case. */
export async function measureAgreement(
  opts: { workers?: number; dir?: URL } = {},
): Promise<{ agreement: Agreement; disagreements: Disagreement[] }> {
  const dir = opts.dir ?? DATA;
  const [cases, verdicts] = await Promise.all([
    readJsonlGz<CorpusCase>(dir, "grader_corpus.jsonl.gz"),
    readJsonlGz<HarnessVerdict>(dir, "grader_verdicts.jsonl.gz"),
  ]);
  const byId = new Map(verdicts.map((v) => [v.id, v]));
  if (byId.size !== cases.length || cases.some((c) => !byId.has(c.id))) {
    throw new Error(
      "grader_verdicts.jsonl.gz does not cover grader_corpus.jsonl.gz; rerun harness_verdicts.py",
    );
  }
  using grader = new Grader({ workers: opts.workers });
  const ours = await Promise.all(cases.map((c) => grader.grade(c.output, c.gold, c.dataset)));
  const agreement: Agreement = { cases: cases.length, verdicts: 0, extraction: 0, gold: 0 };
  const disagreements: Disagreement[] = [];
  cases.forEach((c, i) => {
    const harness = byId.get(c.id)!;
    const rast = ours[i];
    const sameVerdict = rast.correct === harness.correct;
    const sameExtraction = rast.extracted === (harness.pred ?? "");
    const sameGold = rast.gold === harness.gold;
    agreement.verdicts += sameVerdict ? 1 : 0;
    agreement.extraction += sameExtraction ? 1 : 0;
    agreement.gold += sameGold ? 1 : 0;
    if (!sameVerdict || !sameExtraction || !sameGold) {
      const { gold, pred, correct, timeout } = harness;
      disagreements.push({
        id: c.id,
        dataset: c.dataset,
        kind: c.kind,
        harness: { gold, pred, correct, timeout },
        rast: { ...rast },
      });
    }
  });
  return { agreement, disagreements };
}

/** The figure the README quotes. */
export async function quotedAgreement(): Promise<Agreement> {
  return JSON.parse(await Deno.readTextFile(QUOTED_FILE)) as Agreement;
}

/** "99.95%" of `count` out of `cases`, rounded down so a quoted figure never overstates. */
export function percent(count: number, cases: number): string {
  return `${(Math.floor((count / cases) * 10000) / 100).toFixed(2)}%`;
}

/** A one-line-per-figure summary, then one line per disagreement. */
export function formatReport(agreement: Agreement, disagreements: Disagreement[]): string {
  const { cases } = agreement;
  const line = (label: string, n: number) => `${label}: ${n}/${cases} (${percent(n, cases)})`;
  return [
    `grader corpus: ${cases} cases`,
    line("verdicts agree with the harness", agreement.verdicts),
    line("extracted answers agree", agreement.extraction),
    line("normalised golds agree", agreement.gold),
    ...disagreements.map((d) => JSON.stringify(d)),
  ].join("\n");
}

if (import.meta.main) {
  const started = performance.now();
  const { agreement, disagreements } = await measureAgreement();
  console.log(formatReport(agreement, disagreements));
  console.log(`graded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (Deno.args.includes("--write")) {
    await Deno.writeTextFile(QUOTED_FILE, JSON.stringify(agreement, null, 2) + "\n");
    console.log(`wrote ${QUOTED_FILE}`);
  }
}
