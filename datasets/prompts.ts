/**
 * Prompt templates: `abel` (the paper's default), `miniarith` (the trained demo trio's), `qwen-boxed` (Qwen chat format asking for
 * \boxed{}), `chat` (the model's own chat_template from tokenizer_config.json, via
 * @huggingface/jinja), or a custom template string / `@file` with `{input}` in it.
 */
import { join } from "node:path";
import { UserError } from "../engine/errors.ts";

/** The authors' stop strings live with the output truncation that uses them. */
export { DEFAULT_STOP_STRINGS } from "./grading/extract.ts";

const BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}.";

/** Named templates, `{input}` standing for the question. */
export const PROMPT_TEMPLATES: Record<string, string> = {
  abel: "Question:\n{input}\nAnswer:\nLet's think step by step.\n",
  /** The miniarith trio's own format (scripts/mini_repro/task.py PROMPT). */
  miniarith: "Question: {input}\nAnswer:",
  "qwen-boxed": "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" +
    `<|im_start|>user\n{input}\n${BOXED_INSTRUCTION}<|im_end|>\n<|im_start|>assistant\n`,
};

/** Options of renderPrompt. */
export interface RenderPromptOptions {
  /** Model folder whose tokenizer_config.json holds the chat template (for `chat`). */
  modelDir?: string;
}

/** Fill `{input}`; `{{` and `}}` stand for literal braces, as in Python's str.format. */
function fill(template: string, question: string): string {
  return template.replace(/\{\{|\}\}|\{input\}/g, (m) => m === "{input}" ? question : m[0]);
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound ? "it does not exist" : String(err);
    throw new UserError(`Cannot read ${what} "${path}": ${reason}`);
  }
}

function tokenString(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && "content" in value) {
    return String((value as { content: unknown }).content);
  }
  return "";
}

async function renderChat(question: string, modelDir: string | undefined): Promise<string> {
  if (!modelDir) {
    throw new UserError('The "chat" prompt needs the model folder; pass the model (--model DIR)');
  }
  const path = join(modelDir, "tokenizer_config.json");
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readText(path, "tokenizer config"));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`Cannot parse "${path}": ${(err as Error).message}; fix the JSON`);
  }
  const chatTemplate = config.chat_template;
  if (typeof chatTemplate !== "string") {
    throw new UserError(
      `"${path}" has no chat_template; use --prompt abel or qwen-boxed for a base model`,
    );
  }
  const { Template } = await import("@huggingface/jinja");
  return new Template(chatTemplate).render({
    messages: [{ role: "user", content: `${question}\n${BOXED_INSTRUCTION}` }],
    add_generation_prompt: true,
    bos_token: tokenString(config.bos_token),
    eos_token: tokenString(config.eos_token),
  });
}

/**
 * The prompt for one question: a named template (`abel`, `qwen-boxed`, `chat`), a template
 * string containing `{input}`, or `@path` to a file holding one.
 */
export async function renderPrompt(
  template: string,
  question: string,
  opts: RenderPromptOptions = {},
): Promise<string> {
  if (template === "chat") return await renderChat(question, opts.modelDir);
  if (Object.hasOwn(PROMPT_TEMPLATES, template)) return fill(PROMPT_TEMPLATES[template], question);
  const body = template.startsWith("@")
    ? await readText(template.slice(1), "prompt file")
    : template;
  if (!body.includes("{input}")) {
    const names = [...Object.keys(PROMPT_TEMPLATES), "chat"].join(", ");
    throw new UserError(
      `Prompt template "${template}" is neither a name (${names}) nor a template with {input}; ` +
        "add {input} where the question goes",
    );
  }
  return fill(body, question);
}
