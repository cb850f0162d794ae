/** Where tests find the repository's own data: the tiny model fixtures and the benchmark sets. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SHIPPED_DATA_DIR } from "../../datasets/mod.ts";

export const REPO_ROOT = join(fileURLToPath(new URL("../..", import.meta.url)));
/** Made by scripts/make_fixtures.py; test/fixtures/README.md describes them. */
export const FIXTURES_DIR = join(REPO_ROOT, "test", "fixtures", "tiny");
export const DATASETS_DIR = SHIPPED_DATA_DIR;
