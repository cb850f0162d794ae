/** Prompt templates: the authors' abel and qwen-boxed strings, chat templates, custom ones. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_STOP_STRINGS, renderPrompt } from "../datasets/prompts.ts";
import { UserError } from "../engine/errors.ts";

const Q = "What is $1+1$?";

Deno.test("abel and qwen-boxed are the authors' templates", async () => {
  assert.equal(
    await renderPrompt("abel", Q),
    "Question:\nWhat is $1+1$?\nAnswer:\nLet's think step by step.\n",
  );
  assert.equal(
    await renderPrompt("qwen-boxed", Q),
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" +
      "<|im_start|>user\nWhat is $1+1$?\n" +
      "Please reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n" +
      "<|im_start|>assistant\n",
  );
  // braces in the question are kept verbatim
  assert.equal(
    await renderPrompt("abel", "{x} {{y}}"),
    "Question:\n{x} {{y}}\nAnswer:\nLet's think step by step.\n",
  );
});

Deno.test("default stop strings are those of the authors' runs", () => {
  assert.deepEqual(DEFAULT_STOP_STRINGS, [
    "</s>",
    "<|im_end|>",
    "<|endoftext|>",
    "assistant",
    "user",
    "_end",
    "_start",
  ]);
});

const QWEN_TEMPLATE = "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + " +
  "messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou are Qwen, " +
  "created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}" +
  "{%- for message in messages %}{%- if message.role != 'system' %}{{- '<|im_start|>' + " +
  "message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

async function modelDir(config: Record<string, unknown>): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "tokenizer_config.json"), JSON.stringify(config));
  return dir;
}

Deno.test("chat renders the model's own chat_template with @huggingface/jinja", async () => {
  const qwen = await modelDir({ chat_template: QWEN_TEMPLATE, eos_token: "<|im_end|>" });
  assert.equal(
    await renderPrompt("chat", Q, { modelDir: qwen }),
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant." +
      "<|im_end|>\n<|im_start|>user\nWhat is $1+1$?\n" +
      "Please reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n" +
      "<|im_start|>assistant\n",
  );
  const llama = await modelDir({
    chat_template: "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} [/INST]" +
      "{% endfor %}",
    bos_token: { content: "<s>", lstrip: false },
  });
  assert.match(await renderPrompt("chat", "Hi", { modelDir: llama }), /^<s>\[INST\] Hi\n/);
});

Deno.test("custom templates: a string with {input}, or @file", async () => {
  assert.equal(await renderPrompt("Q: {input}\nA: \\boxed{{}}", "2+2?"), "Q: 2+2?\nA: \\boxed{}");
  const file = join(await Deno.makeTempDir(), "prompt.txt");
  await Deno.writeTextFile(file, "### Problem: {input}\n### Solution:");
  assert.equal(await renderPrompt(`@${file}`, "x?"), "### Problem: x?\n### Solution:");
});

Deno.test("template errors say what to do", async () => {
  await assert.rejects(() => renderPrompt("qwen", Q), /neither a name .* add \{input\}/);
  await assert.rejects(() => renderPrompt("chat", Q), /needs the model folder/);
  const base = await modelDir({ eos_token: "</s>" });
  await assert.rejects(() => renderPrompt("chat", Q, { modelDir: base }), /has no chat_template/);
  await assert.rejects(() => renderPrompt("@/nonexistent/prompt.txt", Q), UserError);
});
