/**
 * Crash-safe file writes: a file is either its old content or its new content, never torn. A leaf
 * (it imports nothing of rast), so the datasets download and the checkpoint writers use it too.
 */
import { dirname } from "node:path";

/** Flushes a folder's entries (a rename or a new file) to disk. */
export function syncDir(dir: string): void {
  const handle = Deno.openSync(dir, { read: true });
  try {
    handle.syncSync();
  } finally {
    handle.close();
  }
}

/**
 * Writes `chunks` (text, or bytes in order) to `path` atomically: a temporary file beside it,
 * fsynced, then renamed over `path` and the folder fsynced. On failure the temporary file is
 * removed and `path` keeps its old content. The one atomic write of rast: run files, metrics,
 * downloaded benchmarks and written checkpoints all go through it.
 */
export async function writeFileAtomic(
  path: string,
  chunks: string | readonly Uint8Array[],
): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    try {
      for (const bytes of toChunks(chunks)) await writeAll(file, bytes);
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  syncDir(dirname(path));
}

/** writeFileAtomic of a text. */
export function writeTextAtomic(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, text);
}

/** writeFileAtomic, synchronously (for files rewritten while a run opens). */
export function writeTextAtomicSync(path: string, text: string): void {
  const tmp = `${path}.tmp-${Deno.pid}`;
  const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  try {
    try {
      writeAllSync(file, new TextEncoder().encode(text));
      file.syncSync();
    } finally {
      file.close();
    }
    Deno.renameSync(tmp, path);
  } catch (err) {
    try {
      Deno.removeSync(tmp);
    } catch { /* never made, or already gone */ }
    throw err;
  }
  syncDir(dirname(path));
}

function toChunks(chunks: string | readonly Uint8Array[]): readonly Uint8Array[] {
  return typeof chunks === "string" ? [new TextEncoder().encode(chunks)] : chunks;
}

/** Writes every byte (Deno's write may write fewer bytes than given). */
async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await file.write(bytes.subarray(offset));
}

/** Writes every byte synchronously. */
export function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
}

/** Creates `dir` and its parents, fsyncing each new entry's parent so the folders survive a crash. */
export function makeDirDurable(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !exists(d); d = dirname(d)) missing.unshift(d);
  for (const d of missing) {
    try {
      Deno.mkdirSync(d);
    } catch (err) {
      // Another process (a shard starting at the same moment) made it first.
      if (!(err instanceof Deno.errors.AlreadyExists) || !Deno.statSync(d).isDirectory) throw err;
    }
    syncDir(dirname(d));
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
