/**
 * Evaluation: datasets, prompts, answer extraction, grading and metrics, with the semantics of
 * the authors' harness (Qwen2.5-Math evaluation as in simpleRL-reason's simplelr_math_eval).
 * Pure TypeScript; no engine needed.
 */
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
  extractAnswer,
  predictionFromAnswer,
  predictionFromOutput,
  truncateAtStops,
} from "./extract.ts";
export { stripString } from "./normalize.ts";
export { mathEqual, type SymbolicEqual } from "./math_equal.ts";
