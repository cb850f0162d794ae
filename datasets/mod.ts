/**
 * The benchmark registry: where each test set's question and ground truth live in its rows, and
 * how the authors' harness (parse_ground_truth) reads and normalises that ground truth. Files are
 * `<data dir>/<name>/test.jsonl`, one JSON object per line, in the harness's row order.
 */
import { fileURLToPath } from "node:url";
import { extractCandidate } from "./grading/extract.ts";
import { pyStr, pyStrip } from "./grading/python_compat.ts";

/** The repository's own copies of the registered test sets: `<this folder>/<name>/test.jsonl`. */
export const SHIPPED_DATA_DIR = fileURLToPath(new URL(".", import.meta.url));

/** One registered benchmark. */
export interface DatasetSpec {
  name: string;
  description: string;
  /** Row fields tried in order for the question text (the harness's parse_question order). */
  questionFields: string[];
  /** The raw gold answer of a row; throws an Error naming the missing field. */
  gold(row: Record<string, unknown>): string;
  /** Public copy on the Hugging Face hub, when there is one. */
  hub?: { repo: string; config: string; split: string };
  /** The test.jsonl shipped in this repository, used when no data dir is given. */
  shipped?: string;
}

const QUESTION_FIELDS = ["question", "problem", "Question", "input"];

function field(row: Record<string, unknown>, name: string): unknown {
  if (!Object.hasOwn(row, name)) throw new Error(`field "${name}" is missing`);
  return row[name];
}

function text(row: Record<string, unknown>, name: string): string {
  const value = field(row, name);
  if (typeof value !== "string") throw new Error(`field "${name}" is not a string`);
  return value;
}

/**
 * The last \boxed{} (or the harness's other answer forms) of the worked solution, unnormalised;
 * copies without a solution (the hub's minervamath) give the final answer in "answer".
 */
function solutionAnswer(row: Record<string, unknown>): string {
  if (!Object.hasOwn(row, "solution")) return pyStr(field(row, "answer"));
  return extractCandidate(text(row, "solution")) ?? "";
}

/** Registered benchmarks by name. */
export const DATASETS: Record<string, DatasetSpec> = {
  math500: {
    name: "math500",
    description: "MATH-500 (500 competition problems, level and subject)",
    questionFields: QUESTION_FIELDS,
    gold: solutionAnswer,
    hub: { repo: "HuggingFaceH4/MATH-500", config: "default", split: "test" },
  },
  aime24: {
    name: "aime24",
    description: "AIME 2024 (30 problems, integer answers)",
    questionFields: QUESTION_FIELDS,
    gold: (row) => pyStr(field(row, "answer")),
    hub: { repo: "HuggingFaceH4/aime_2024", config: "default", split: "train" },
  },
  amc23: {
    name: "amc23",
    description: "AMC 2023 (40 problems; a JSON number answer, 27.0 means 27)",
    questionFields: QUESTION_FIELDS,
    gold: (row) => pyStr(field(row, "answer")),
    hub: { repo: "math-ai/amc23", config: "default", split: "test" },
  },
  minerva_math: {
    name: "minerva_math",
    description: "Minerva MATH (272 science problems with units)",
    questionFields: QUESTION_FIELDS,
    gold: solutionAnswer,
    hub: { repo: "math-ai/minervamath", config: "default", split: "test" },
  },
  olympiadbench: {
    name: "olympiadbench",
    description: "OlympiadBench (675 open-ended English math problems)",
    questionFields: QUESTION_FIELDS,
    gold: (row) => {
      const answers = field(row, "final_answer");
      if (!Array.isArray(answers) || answers.length === 0) {
        throw new Error(`field "final_answer" is not a non-empty list`);
      }
      return pyStrip(pyStr(answers[0]), "$");
    },
  },
  miniarith: {
    name: "miniarith",
    description: "miniarith (300 synthetic count word problems; the trained demo trio's task)",
    questionFields: QUESTION_FIELDS,
    gold: (row) => pyStr(field(row, "answer")),
    shipped: fileURLToPath(new URL("./miniarith/test.jsonl", import.meta.url)),
  },
  gsm8k: {
    name: "gsm8k",
    description: "GSM8K (1319 grade-school problems; answer after ####)",
    questionFields: QUESTION_FIELDS,
    gold: (row) => {
      const parts = text(row, "answer").split("####");
      if (parts.length !== 2) throw new Error(`field "answer" must contain "####" exactly once`);
      return parts[1];
    },
    hub: { repo: "openai/gsm8k", config: "main", split: "test" },
  },
};

/** The authors' dataset names (their run.py's --dataset and results folders) → rast's. */
export const AUTHORS_DATASET_NAMES: Record<string, string> = {
  MATH: "math500",
  AIME: "aime24",
  AMC: "amc23",
  Minerva: "minerva_math",
  Olympiad: "olympiadbench",
  GSM8K: "gsm8k",
};

/** The authors' name of a registered benchmark (math500 → MATH), if it has one. */
export function authorsDatasetName(name: string): string | undefined {
  return Object.keys(AUTHORS_DATASET_NAMES).find((key) => AUTHORS_DATASET_NAMES[key] === name);
}

/** The registered benchmark called `name` (or by its authors' alias, MATH → math500), if any. */
export function datasetSpec(name: string): DatasetSpec | undefined {
  const rastName = Object.hasOwn(AUTHORS_DATASET_NAMES, name) ? AUTHORS_DATASET_NAMES[name] : name;
  return Object.hasOwn(DATASETS, rastName) ? DATASETS[rastName] : undefined;
}
