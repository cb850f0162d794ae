/**
 * Evaluation: datasets, prompts, answer extraction, grading and metrics, with the semantics of
 * the authors' harness (Qwen2.5-Math evaluation as in simpleRL-reason's simplelr_math_eval).
 * Pure TypeScript; no engine needed.
 */
export { type Dataset, type DatasetRow, loadDataset, type LoadDatasetOptions } from "./dataset.ts";
export { Grader, type GraderOptions, type Verdict } from "./grader.ts";
export {
  computeMetrics,
  type GroupMetrics,
  kValues,
  majorityIndex,
  type MajRule,
  type Metrics,
  type MetricsOptions,
  passAtK,
  type QuestionMetrics,
} from "./metrics.ts";
export {
  type EvaluateOptions,
  evaluateResultsDir,
  formatMetrics,
  predictionFiles,
  writeFileAtomic,
} from "./results.ts";
export {
  DEFAULT_STOP_STRINGS,
  PROMPT_TEMPLATES,
  renderPrompt,
  type RenderPromptOptions,
} from "./prompts.ts";
export {
  extractAnswer,
  predictionFromAnswer,
  predictionFromOutput,
  truncateAtStops,
} from "./extract.ts";
export { stripString } from "./normalize.ts";
export { normalizeGold } from "./gold.ts";
export { mathEqual, type SymbolicEqual } from "./math_equal.ts";
export { DATASETS, type DatasetSpec, datasetSpec } from "../../datasets/mod.ts";
