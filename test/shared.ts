/** Where tests find ../shared (fixtures, datasets): RAST_SHARED or the folder beside the repo. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(fileURLToPath(new URL(".", import.meta.url)), "..");

export const REPO_ROOT = repoRoot;
export const SHARED_DIR = Deno.env.get("RAST_SHARED") ?? join(repoRoot, "..", "shared");
export const FIXTURES_DIR = join(SHARED_DIR, "fixtures", "tiny");
export const DATASETS_DIR = join(SHARED_DIR, "datasets");
/** The fixtures' references are float32: on a CUDA build the default would be the checkpoint's. */
export const FLOAT32 = { dtype: "float32" } as const;
