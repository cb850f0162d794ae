/** Crash-safe file writes: a file is either its old content or its new content, never torn. */
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

/** Writes `text` to `path` atomically: a temporary file beside it, fsynced, then renamed. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    await writeAll(file, new TextEncoder().encode(text));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
  syncDir(dirname(path));
}

/** writeTextAtomic, synchronously (for files rewritten while a run opens). */
export function writeTextAtomicSync(path: string, text: string): void {
  const tmp = `${path}.tmp-${Deno.pid}`;
  const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  try {
    writeAllSync(file, new TextEncoder().encode(text));
    file.syncSync();
  } finally {
    file.close();
  }
  Deno.renameSync(tmp, path);
  syncDir(dirname(path));
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
