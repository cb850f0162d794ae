/**
 * Loading benchmark rows: registered names (datasets/mod.ts) from the data directory given (option,
 * then RAST_DATA_DIR), else the repository's datasets/, else the download cache (downloading when
 * needed); or any JSONL file with user-named question and answer fields. Rows keep file order;
 * bad lines are reported by number.
 */
import { basename, dirname, join } from "node:path";
import { type DatasetSpec, datasetSpec, SHIPPED_DATA_DIR } from "./mod.ts";
import { UserError } from "../engine/errors.ts";
import { datasetCacheDir, downloadDataset } from "./download.ts";
import { pyStr } from "./grading/python_compat.ts";

// The row types are the grader's (metrics are computed over them); loading fills them in.
import type { Dataset, DatasetRow } from "./grading/metrics.ts";
export type { Dataset, DatasetRow };

/** Options of loadDataset. */
export interface LoadDatasetOptions {
  /** Folder holding `<name>/test.jsonl` (default: $RAST_DATA_DIR, else the shipped copies). */
  dataDir?: string;
  /** The repository's copies, tried when no data dir is given (default: datasets/ beside mod.ts). */
  shippedDir?: string;
  /** Row field with the question (default: the first of question, problem, Question, input). */
  questionField?: string;
  /** Row field with the gold answer (default: the dataset's rule, or "answer"). */
  answerField?: string;
  /** The fetch used to download from the hub (default: the global fetch). */
  fetch?: typeof fetch;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * The file of a registered dataset: an explicit data dir must hold it; otherwise the shipped copy,
 * then the cache, downloading into the cache as the last resort.
 */
async function locate(spec: DatasetSpec, opts: LoadDatasetOptions): Promise<string> {
  // A set shipped in the repository is read from there unless a data dir is passed explicitly.
  if (spec.shipped && opts.dataDir === undefined) return spec.shipped;
  const explicit = opts.dataDir ?? Deno.env.get("RAST_DATA_DIR");
  if (explicit) {
    for (
      const path of [join(explicit, spec.name, "test.jsonl"), join(explicit, `${spec.name}.jsonl`)]
    ) {
      if (await exists(path)) return path;
    }
    throw new UserError(
      `Dataset "${spec.name}" is not in "${explicit}": expected ${
        join(explicit, spec.name, "test.jsonl")
      }; ` +
        "fix --data-dir / RAST_DATA_DIR, or unset them to use the copy shipped in datasets/",
    );
  }
  const shipped = join(opts.shippedDir ?? SHIPPED_DATA_DIR, spec.name, "test.jsonl");
  if (await exists(shipped)) return shipped;
  const cached = join(datasetCacheDir(), spec.name, "test.jsonl");
  if (await exists(cached)) return cached;
  if (!spec.hub) {
    throw new UserError(
      `Dataset "${spec.name}" is missing from ${shipped} and has no public copy to download; ` +
        `restore that file (git checkout) or put its test.jsonl in <data dir>/${spec.name}/ and ` +
        "pass --data-dir or set RAST_DATA_DIR",
    );
  }
  return await downloadDataset(spec.name, spec.hub, { fetch: opts.fetch });
}

function fail(path: string, line: number, message: string): never {
  throw new UserError(`${path}:${line}: ${message}; fix or remove that line`);
}

/**
 * The file as UTF-8 text: a leading byte-order mark is dropped (editors on Windows add one);
 * bytes that are not UTF-8 are refused with the line they are on, never read as U+FFFD.
 */
function decodeUtf8(path: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    // Find the first line that does not decode, to name it.
    const strict = new TextDecoder("utf-8", { fatal: true });
    let start = 0;
    for (let line = 1; start <= bytes.length; line++) {
      let end = bytes.indexOf(0x0a, start);
      if (end < 0) end = bytes.length;
      try {
        strict.decode(bytes.subarray(start, end));
      } catch {
        throw new UserError(
          `Dataset file "${path}" line ${line} is not UTF-8; convert the file (e.g. iconv -f latin1 -t utf-8) and rerun`,
        );
      }
      start = end + 1;
    }
    throw new UserError(`Dataset file "${path}" is not UTF-8; convert it to UTF-8 and rerun`);
  }
}

/** Parse a JSONL file into rows; every malformed line is reported with its number. */
export async function readRows(
  path: string,
  rowOf: (raw: Record<string, unknown>) => { question: string; gold: string },
): Promise<DatasetRow[]> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound ? "it does not exist" : String(err);
    throw new UserError(`Cannot read dataset file "${path}": ${reason}`);
  }
  const text = decodeUtf8(path, bytes);
  const rows: DatasetRow[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      fail(path, i + 1, `not valid JSON (${(err as Error).message})`);
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      fail(path, i + 1, "expected a JSON object");
    }
    const fields = raw as Record<string, unknown>;
    let parts: { question: string; gold: string };
    try {
      parts = rowOf(fields);
    } catch (err) {
      fail(path, i + 1, (err as Error).message);
    }
    rows.push({ index: rows.length, question: parts.question, gold: parts.gold, fields });
  });
  if (rows.length === 0) throw new UserError(`Dataset file "${path}" has no rows`);
  return rows;
}

function questionOf(row: Record<string, unknown>, fields: string[]): string {
  for (const name of fields) {
    if (Object.hasOwn(row, name)) {
      if (typeof row[name] !== "string") throw new Error(`field "${name}" is not a string`);
      return row[name] as string;
    }
  }
  throw new Error(`no question field (looked for ${fields.map((f) => `"${f}"`).join(", ")})`);
}

function answerOf(row: Record<string, unknown>, name: string): string {
  if (!Object.hasOwn(row, name)) throw new Error(`field "${name}" is missing`);
  return pyStr(row[name]);
}

/**
 * Load a benchmark by registered name (math500, aime24, amc23, minerva_math, olympiadbench,
 * gsm8k) or from a JSONL path. A file named `<name>/test.jsonl` or `<name>.jsonl` with a
 * registered name gets that dataset's rules.
 */
export async function loadDataset(
  nameOrPath: string,
  opts: LoadDatasetOptions = {},
): Promise<Dataset> {
  const isPath = nameOrPath.includes("/") || nameOrPath.endsWith(".jsonl") ||
    nameOrPath.endsWith(".json");
  let path: string;
  let name: string;
  if (isPath) {
    path = nameOrPath;
    const stem = basename(path).replace(/\.jsonl?$/, "");
    name = stem === "test" ? basename(dirname(path)) : stem;
  } else {
    const spec = datasetSpec(nameOrPath);
    if (!spec) {
      throw new UserError(
        `Unknown dataset "${nameOrPath}"; use math500, aime24, amc23, minerva_math, ` +
          "olympiadbench, gsm8k (or the authors' MATH, AIME, AMC, Minerva, Olympiad, GSM8K), " +
          "or a path to a .jsonl file",
      );
    }
    name = spec.name;
    path = await locate(spec, opts);
  }
  const spec = datasetSpec(name);
  const questionFields = opts.questionField
    ? [opts.questionField]
    : spec?.questionFields ?? ["question", "problem", "Question", "input"];
  const gold = opts.answerField || !spec
    ? (row: Record<string, unknown>) => answerOf(row, opts.answerField ?? "answer")
    : spec.gold;
  const rows = await readRows(path, (row) => ({
    question: questionOf(row, questionFields),
    gold: gold(row),
  }));
  return { name, rows };
}
