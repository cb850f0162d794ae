/**
 * Download of the public benchmark copies from the Hugging Face hub (datasets-server rows API,
 * JSON pages of 100 rows) into a local cache, written as `<cache>/<name>/test.jsonl`.
 */
import { join } from "node:path";
import { rastCacheDir } from "../engine/cache_dirs.ts";
import { UserError } from "../engine/errors.ts";
import { writeFileAtomic } from "../tui/runs/atomic.ts";

/** Where downloaded benchmarks are kept: <rast cache>/datasets (engine/cache_dirs.ts). */
export function datasetCacheDir(): string {
  return join(rastCacheDir(), "datasets");
}

const ROWS_API = "https://datasets-server.huggingface.co/rows";
const PAGE = 100;

interface RowsPage {
  rows?: { row: Record<string, unknown> }[];
  num_rows_total?: number;
  error?: string;
}

async function fetchPage(url: string, fetchImpl: typeof fetch): Promise<RowsPage> {
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) {
    const body = await response.text().catch(() => "");
    throw new Error(`HTTP ${response.status} ${body.slice(0, 200)}`.trim());
  }
  return await response.json() as RowsPage;
}

/** Options of downloadDataset. */
export interface DownloadOptions {
  /** Cache root (default datasetCacheDir()). */
  cacheDir?: string;
  /** The fetch to use (tests pass a fake one; nothing else needs this). */
  fetch?: typeof fetch;
}

/**
 * Fetch every row of `repo` (config, split) and write them, in order, to `<cacheDir>/<name>/
 * test.jsonl`. Returns the file's path. Throws a one-line UserError when offline.
 */
export async function downloadDataset(
  name: string,
  hub: { repo: string; config: string; split: string },
  opts: DownloadOptions = {},
): Promise<string> {
  const cacheDir = opts.cacheDir ?? datasetCacheDir();
  const fetchImpl = opts.fetch ?? fetch;
  const rows: Record<string, unknown>[] = [];
  try {
    for (let offset = 0;; offset += PAGE) {
      const query = new URLSearchParams({
        dataset: hub.repo,
        config: hub.config,
        split: hub.split,
        offset: String(offset),
        length: String(PAGE),
      });
      const page = await fetchPage(`${ROWS_API}?${query}`, fetchImpl);
      if (page.error) throw new Error(page.error);
      const got = page.rows ?? [];
      rows.push(...got.map((r) => r.row));
      const total = page.num_rows_total ?? 0;
      if (got.length < PAGE || rows.length >= total) break;
    }
  } catch (err) {
    const cause = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new UserError(
      `Cannot download dataset "${name}" from huggingface.co (${hub.repo}): ${cause}; ` +
        `if you are offline, put its test.jsonl in <data dir>/${name}/ and pass --data-dir ` +
        "or set RAST_DATA_DIR",
    );
  }
  if (rows.length === 0) {
    throw new UserError(`Dataset "${name}" (${hub.repo}) came back empty from huggingface.co`);
  }
  const dir = join(cacheDir, name);
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, "test.jsonl");
  await writeFileAtomic(path, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return path;
}
