/**
 * The README's grading figure: rast's grader against the authors' Python harness on the grader
 * corpus (synthetic outputs for every gold of the six benchmarks; the harness's verdicts were
 * recorded by scripts/grader_corpus/harness_verdicts.py). Fails when fewer verdicts, extracted
 * answers or normalised golds agree than test/data/grader_agreement.json quotes.
 */
import assert from "node:assert/strict";
import {
  formatReport,
  measureAgreement,
  percent,
  quotedAgreement,
} from "../scripts/grader_corpus/agreement.ts";

Deno.test("the grader agrees with the harness on the corpus as the README quotes", async () => {
  const quoted = await quotedAgreement();
  const started = performance.now();
  const { agreement, disagreements } = await measureAgreement();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${formatReport(agreement, disagreements)}\ngraded in ${seconds} s`);
  assert.equal(agreement.cases, quoted.cases, "the corpus changed; rerun agreement.ts --write");
  for (const figure of ["verdicts", "extraction", "gold"] as const) {
    assert.ok(
      agreement[figure] >= quoted[figure],
      `${figure}: ${agreement[figure]} of ${agreement.cases} agree ` +
        `(${percent(agreement[figure], agreement.cases)}), below the quoted ${quoted[figure]}`,
    );
  }
});
