/**
 * Downloads a hub model into the standard Hugging Face cache, as `huggingface-cli download`
 * lays it out: `models--Org--Name/blobs/<etag>`, `snapshots/<commit>/<file>` (links to the
 * blobs) and `refs/main`. Only the files the engine reads are fetched (configs, tokenizer files,
 * safetensors and their index). A blob is written to `<etag>.incomplete` and resumed with a
 * Range request after an interruption; it is checked against the size and hash the hub's API
 * reports (sha256 for LFS files, the git blob sha1 otherwise) before it is renamed into place.
 * The snapshot links and refs/main are written last, so a cut-short download is never mistaken
 * for a model. Honours HF_ENDPOINT, HF_HOME / HF_HUB_CACHE, HF_TOKEN (or the saved token file)
 * and HF_HUB_OFFLINE.
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { UserError } from "./errors.ts";
import { cacheEnv, hfHomeDir } from "./cache_dirs.ts";
import { HUB_ID, hubCacheDir, type HubEnv } from "./hub.ts";

/** The environment the downloader reads (injectable for tests). */
export interface DownloadEnv extends HubEnv {
  HF_ENDPOINT?: string;
  HF_TOKEN?: string;
  HF_TOKEN_PATH?: string;
  HF_HUB_OFFLINE?: string;
}

/** Bytes of one file so far, for a progress bar. */
export interface DownloadProgress {
  file: string;
  done: number;
  total: number;
}

/** Options of ensureModel / downloadModel. */
export interface DownloadOptions {
  env?: DownloadEnv;
  /** Called as bytes arrive (default: a progress bar on stderr). */
  onProgress?: (progress: DownloadProgress) => void;
}

/** A file of the repo as the hub's API lists it with blobs=true. */
interface Sibling {
  rfilename: string;
  size?: number;
  blobId?: string;
  lfs?: { sha256: string; size: number };
}

/** Files the engine reads: configs, tokenizer files, weights and the weights' index. */
const NEEDED =
  /^(config\.json|generation_config\.json|tokenizer(_config)?\.json|special_tokens_map\.json|added_tokens\.json|vocab\.json|merges\.txt|tokenizer\.model|[^/]*\.safetensors|model\.safetensors\.index\.json)$/;

const MIB = 2 ** 20;

/**
 * Makes sure `arg` can be resolved: a hub id that is not a local folder and not yet in the cache
 * is downloaded (unless HF_HUB_OFFLINE is set). Returns `arg` unchanged; resolveModel does the rest.
 */
export async function ensureModel(arg: string, opts: DownloadOptions = {}): Promise<string> {
  const env = opts.env ?? processEnv();
  if (existsSync(arg) || !HUB_ID.test(arg) || cachedSnapshot(arg, env)) return arg;
  if (isOffline(env)) return arg; // resolveModel names the missing cache folder and the fix
  await downloadModel(arg, opts);
  return arg;
}

/** The folder of the cached snapshot refs/main names, if it is there with its config.json. */
function cachedSnapshot(hubId: string, env: HubEnv): string | undefined {
  const repo = repoCacheDir(hubId, env);
  const ref = join(repo, "refs", "main");
  if (!existsSync(ref)) return undefined;
  const snapshot = join(repo, "snapshots", readFileSync(ref, "utf8").trim());
  return existsSync(join(snapshot, "config.json")) ? snapshot : undefined;
}

function repoCacheDir(hubId: string, env: HubEnv): string {
  const [org, name] = hubId.split("/");
  return join(hubCacheDir(env), `models--${org}--${name}`);
}

function isOffline(env: DownloadEnv): boolean {
  return ["1", "true", "yes", "on"].includes((env.HF_HUB_OFFLINE ?? "").toLowerCase());
}

/** HF_TOKEN, else the token file `huggingface-cli login` saves. */
function hubToken(env: DownloadEnv): string | undefined {
  if (env.HF_TOKEN) return env.HF_TOKEN.trim();
  const path = env.HF_TOKEN_PATH ?? join(hfHomeDir(env), "token");
  return existsSync(path) ? readFileSync(path, "utf8").trim() || undefined : undefined;
}

/** Downloads the files the engine needs of `hubId` at main; returns the snapshot folder. */
export async function downloadModel(hubId: string, opts: DownloadOptions = {}): Promise<string> {
  const env = opts.env ?? processEnv();
  const endpoint = (env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  const token = hubToken(env);
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const info = await hubFetch(`${endpoint}/api/models/${hubId}/revision/main?blobs=true`, {
    hubId,
    endpoint,
    headers,
  });
  const { sha, siblings } = await info.json() as { sha?: string; siblings?: Sibling[] };
  if (typeof sha !== "string" || !Array.isArray(siblings)) {
    throw new UserError(
      `${endpoint} did not answer like the Hugging Face hub for "${hubId}"; check HF_ENDPOINT`,
    );
  }
  const files = siblings.filter((s) => NEEDED.test(s.rfilename));
  if (!files.some((f) => f.rfilename.endsWith(".safetensors"))) {
    throw new UserError(
      `Model "${hubId}" has no .safetensors weights on the hub; rast loads only safetensors, so pass a model that has them`,
    );
  }
  const repo = repoCacheDir(hubId, env);
  const report = opts.onProgress ?? progressBar(hubId);
  const blobs: { file: string; blob: string }[] = [];
  for (const file of files) {
    const blob = await downloadBlob(file, {
      url: `${endpoint}/${hubId}/resolve/${sha}/${encodePath(file.rfilename)}`,
      hubId,
      endpoint,
      headers,
      blobsDir: join(repo, "blobs"),
      report,
    });
    blobs.push({ file: file.rfilename, blob });
  }
  const snapshot = join(repo, "snapshots", sha);
  for (const { file, blob } of blobs) {
    const link = join(snapshot, file);
    mkdirSync(dirname(link), { recursive: true });
    rmSync(link, { force: true });
    symlinkSync(relative(dirname(link), blob), link);
  }
  mkdirSync(join(repo, "refs"), { recursive: true });
  Deno.writeTextFileSync(join(repo, "refs", "main"), sha);
  return snapshot;
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

interface FetchContext {
  hubId: string;
  endpoint: string;
  headers: Record<string, string>;
}

/** fetch with the hub's failures turned into one-line errors that name the fix. */
async function hubFetch(url: string, ctx: FetchContext, extra: HeadersInit = {}) {
  let response: Response;
  try {
    response = await fetch(url, { headers: { ...ctx.headers, ...extra } });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new UserError(
      `Cannot reach ${ctx.endpoint} to download "${ctx.hubId}" (${why}); check the network or HF_ENDPOINT, or set HF_HUB_OFFLINE=1 and pass a downloaded model`,
    );
  }
  if (response.ok) return response;
  await response.body?.cancel();
  const { status } = response;
  if (status === 401 || status === 403) {
    const login = ctx.headers.Authorization ? "the token in HF_TOKEN has no access" : "no token";
    throw new UserError(
      `Model "${ctx.hubId}" is gated or private (${status}, ${login}); accept its terms on its hub page and set HF_TOKEN (or run huggingface-cli login)`,
    );
  }
  if (status === 404) {
    throw new UserError(
      `Model "${ctx.hubId}" is not on ${ctx.endpoint} (404); check the id Org/Name, or pass a local model folder`,
    );
  }
  throw new UserError(
    `Downloading "${ctx.hubId}" failed: ${url} answered ${status}; retry later (the download resumes)`,
  );
}

/** The blob's expected size, its name in blobs/ and how to hash it. */
function blobSpec(file: Sibling, hubId: string): { size: number; etag: string; git: boolean } {
  if (file.lfs && /^[0-9a-f]{64}$/.test(file.lfs.sha256)) {
    return { size: file.lfs.size, etag: file.lfs.sha256, git: false };
  }
  if (
    typeof file.blobId === "string" && /^[0-9a-f]{40}$/.test(file.blobId) && file.size !== undefined
  ) {
    return { size: file.size, etag: file.blobId, git: true };
  }
  throw new UserError(
    `The hub listed "${file.rfilename}" of "${hubId}" without its size and hash, so it cannot be checked; check HF_ENDPOINT`,
  );
}

/** Downloads (or resumes) one blob, checks it, and returns its final path. */
async function downloadBlob(
  file: Sibling,
  ctx: FetchContext & {
    url: string;
    blobsDir: string;
    report: (p: DownloadProgress) => void;
  },
): Promise<string> {
  const { size, etag, git } = blobSpec(file, ctx.hubId);
  const path = join(ctx.blobsDir, etag);
  if (existsSync(path) && statSync(path).size === size) return path;
  mkdirSync(ctx.blobsDir, { recursive: true });
  const partial = `${path}.incomplete`;
  let have = existsSync(partial) ? statSync(partial).size : 0;
  if (have > size) have = 0;
  if (have < size) {
    const range: HeadersInit = have > 0 ? { Range: `bytes=${have}-` } : {};
    const response = await hubFetch(ctx.url, ctx, range);
    if (response.status !== 206) have = 0; // the server sent the whole file
    const out = await Deno.open(partial, { write: true, create: true, truncate: have === 0 });
    try {
      await out.seek(have, Deno.SeekMode.Start);
      for await (const chunk of response.body ?? []) {
        let offset = 0;
        while (offset < chunk.length) offset += await out.write(chunk.subarray(offset));
        have += chunk.length;
        ctx.report({ file: file.rfilename, done: have, total: size });
      }
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new UserError(
        `Downloading "${file.rfilename}" of "${ctx.hubId}" was cut off at ${have} of ${size} bytes (${why}); rerun to resume`,
      );
    } finally {
      out.close();
    }
  }
  const digest = await fileDigest(partial, git);
  if (have !== size || digest !== etag) {
    rmSync(partial, { force: true });
    const found = have !== size
      ? `${have} bytes, expected ${size}`
      : `hash ${digest}, expected ${etag}`;
    throw new UserError(
      `Downloaded "${file.rfilename}" of "${ctx.hubId}" is corrupt (${found}); it was deleted, rerun to download it again`,
    );
  }
  renameSync(partial, path);
  return path;
}

/** sha256 of the file, or its git blob sha1 (sha1 of "blob <size>\0" + content). */
async function fileDigest(path: string, git: boolean): Promise<string> {
  const hash = createHash(git ? "sha1" : "sha256");
  if (git) hash.update(`blob ${statSync(path).size}\0`);
  using file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/** A progress bar on stderr (one line a file when stderr is not a terminal). */
function progressBar(hubId: string): (p: DownloadProgress) => void {
  const terminal = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let last = 0;
  return ({ file, done, total }) => {
    const now = Date.now();
    const finished = done >= total;
    if (!finished && (!terminal || now - last < 200)) return;
    last = now;
    const width = 24;
    const filled = Math.round(width * (total ? done / total : 1));
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
    const line = `rast: ${hubId} ${file} ${bar} ${(done / MIB).toFixed(1)}/${
      (total / MIB).toFixed(1)
    } MiB`;
    const text = terminal ? `\r${line}\x1b[K${finished ? "\n" : ""}` : `${line}\n`;
    Deno.stderr.writeSync(encoder.encode(text));
  };
}

function processEnv(): DownloadEnv {
  const get = (name: string) => Deno.env.get(name);
  return {
    ...cacheEnv(),
    HF_ENDPOINT: get("HF_ENDPOINT"),
    HF_TOKEN: get("HF_TOKEN"),
    HF_TOKEN_PATH: get("HF_TOKEN_PATH"),
    HF_HUB_OFFLINE: get("HF_HUB_OFFLINE"),
  };
}
