/** The `eval` and `grade` commands' implementations (loaded lazily by eval.ts and grade.ts). */
import { basename, dirname, resolve } from "node:path";
import { AUTHORS_DATASET_NAMES } from "../../datasets/mod.ts";
import { UserError } from "../../engine/errors.ts";
import { Grader, type GraderOptions, type Verdict } from "../../datasets/grading/grader.ts";
import { writeFileAtomic } from "../runs/atomic.ts";
import { evaluateResultsDir, formatMetrics } from "../runs/evaluate.ts";
import { MAJ_RULES, type MajRule } from "../../datasets/grading/vote.ts";

/** Options shared by `eval` and `grade`, as commander hands them over. */
export interface GradingFlags {
  timeout?: string;
  workers?: string;
  stop?: string[];
}

/** `rast eval` options. */
export interface EvalFlags extends GradingFlags {
  dataset?: string;
  resDir?: string;
  k?: string;
  dataDir?: string;
  json?: boolean;
  majRule?: string;
}

/** `rast grade` options. */
export interface GradeFlags extends GradingFlags {
  in?: string;
  out?: string;
  dataset?: string;
}

function positive(value: string | undefined, flag: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    const kind = integer ? "a whole number" : "a number";
    throw new UserError(`${flag} "${value}" is not valid; give ${kind} above 0`);
  }
  return n;
}

function graderOptions(flags: GradingFlags): GraderOptions {
  const seconds = positive(flags.timeout, "--timeout", false);
  return {
    timeoutMs: seconds === undefined ? undefined : seconds * 1000,
    workers: positive(flags.workers, "--workers", true),
    stopStrings: flags.stop,
  };
}

/** The --maj-rule value, checked (default "equivalence"). */
export function parseMajRule(value: string | undefined): MajRule {
  if (value === undefined) return "equivalence";
  if ((MAJ_RULES as readonly string[]).includes(value)) return value as MajRule;
  throw new UserError(`--maj-rule "${value}" is not a rule; pass ${MAJ_RULES.join(" or ")}`);
}

/**
 * The dataset of a folder in the authors' layout, from its parent's name:
 * results/MATH/14B_1.5B_alpha_1.0_temp_1.0 → MATH, results/baseline/AIME/x_temp_1.0 → AIME.
 */
export function datasetFromAuthorsFolder(resDir: string): string | undefined {
  const parent = basename(dirname(resolve(resDir)));
  return Object.hasOwn(AUTHORS_DATASET_NAMES, parent) ? parent : undefined;
}

/** `rast eval --dataset NAME --res-dir DIR`: grade a results folder, write metrics.json. */
export async function runEval(flags: EvalFlags): Promise<void> {
  if (!flags.resDir) {
    throw new UserError("--res-dir is required; pass the folder of prediction files");
  }
  const majRule = parseMajRule(flags.majRule);
  // A sharded run's prediction files are first assembled from its shards' journals.
  const { assembleFolder } = await import("../runs/assemble.ts");
  const named = flags.dataset ?? datasetFromAuthorsFolder(flags.resDir);
  const assembled = await assembleFolder(flags.resDir, { dataset: named, dataDir: flags.dataDir });
  const dataset = named ?? assembled?.dataset;
  if (!dataset) {
    throw new UserError(
      "--dataset is required (the folder is not under an authors' dataset folder such as MATH); name a benchmark or a JSONL file",
    );
  }
  const showProgress = Deno.stderr.isTerminal();
  let lastShown = 0;
  const metrics = await evaluateResultsDir(dataset, flags.resDir, {
    ...graderOptions(flags),
    dataDir: flags.dataDir,
    k: positive(flags.k, "--k", true),
    onProgress: showProgress
      ? (done, total) => {
        const now = Date.now();
        if (now - lastShown < 200 && done < total) return;
        lastShown = now;
        Deno.stderr.writeSync(new TextEncoder().encode(`\rgraded ${done}/${total}`));
        if (done === total) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
      }
      : undefined,
  });
  console.log(flags.json ? JSON.stringify(metrics, null, 2) : formatMetrics(metrics, { majRule }));
}

/** One `grade` input line: an answer to grade, or a blank line (graded as an error). */
type GradeInput =
  | { kind: "output" | "pred"; text: string; gold: string; dataset: string }
  | { kind: "blank"; where: string };

/**
 * Parse `grade` input lines; each needs "gold" and one of "output" / "pred". A blank line is
 * kept (its output line is an error record), so output line i answers input line i.
 */
export function parseGradeLines(text: string, source: string, dataset = ""): GradeInput[] {
  const inputs: GradeInput[] = [];
  const lines = text.split("\n");
  // The newline that ends the last line starts no line of its own.
  if (lines.at(-1) === "") lines.pop();
  lines.forEach((line, i) => {
    const where = `${source}:${i + 1}`;
    if (line.trim() === "") {
      inputs.push({ kind: "blank", where });
      return;
    }
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line);
    } catch (err) {
      throw new UserError(`${where}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new UserError(`${where}: expected a JSON object with "gold" and "output" or "pred"`);
    }
    const kind = typeof row.output === "string"
      ? "output"
      : typeof row.pred === "string"
      ? "pred"
      : null;
    if (kind === null || typeof row.gold !== "string") {
      throw new UserError(`${where}: needs a string "gold" and a string "output" or "pred"`);
    }
    const ds = row.dataset === undefined ? dataset : row.dataset;
    if (typeof ds !== "string") throw new UserError(`${where}: "dataset" must be a string`);
    inputs.push({ kind, text: row[kind] as string, gold: row.gold, dataset: ds });
  });
  return inputs;
}

/** Grade inputs in order with one grader. */
export function gradeAll(grader: Grader, inputs: GradeInput[]): Promise<Verdict[]> {
  return Promise.all(
    inputs.map((x) =>
      x.kind === "blank"
        ? Promise.resolve({
          extracted: "",
          gold: "",
          correct: false,
          timeout: false,
          error: `${x.where} is blank; expected a JSON object with "gold" and "output" or "pred"`,
        })
        : x.kind === "output"
        ? grader.grade(x.text, x.gold, x.dataset)
        : grader.gradePred(x.text, x.gold, x.dataset)
    ),
  );
}

/** `rast grade --in FILE`: one verdict line per input line, same order; `-` is stdin/stdout. */
export async function runGrade(flags: GradeFlags): Promise<void> {
  if (!flags.in) throw new UserError("--in is required; pass a JSONL file or - for stdin");
  const source = flags.in === "-" ? "<stdin>" : flags.in;
  let text: string;
  try {
    text = flags.in === "-"
      ? await new Response(Deno.stdin.readable).text()
      : await Deno.readTextFile(flags.in);
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound ? "it does not exist" : String(err);
    throw new UserError(`Cannot read "${source}": ${reason}`);
  }
  const inputs = parseGradeLines(text, source, flags.dataset);
  using grader = new Grader(graderOptions(flags));
  const verdicts = await gradeAll(grader, inputs);
  const out = verdicts.map((v) =>
    JSON.stringify({
      extracted: v.extracted,
      gold: v.gold,
      correct: v.correct,
      timeout: v.timeout,
      ...(v.error === undefined ? {} : { error: v.error }),
    })
  ).join("\n") + (verdicts.length > 0 ? "\n" : "");
  if (!flags.out || flags.out === "-") await Deno.stdout.write(new TextEncoder().encode(out));
  else await writeFileAtomic(flags.out, out);
}
