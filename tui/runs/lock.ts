/**
 * One writer per run folder: an advisory flock on `<dir>/lock`, held for the run's life and
 * released by the kernel when the process ends however it ends (kill -9 included). The file
 * names its holder (pid and host) so a refused second process can say who has the folder.
 * Deno's FsFile.lock has no non-blocking form, so flock is called from libc directly.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import { UserError } from "../../engine/errors.ts";

/** The lock's file name in a run folder; it holds the holder's pid and host, not results. */
export const LOCK_FILE = "lock";

const LOCK_EX = 2;
const LOCK_NB = 4;
const O_RDWR = 0o2;
const O_CREAT = 0o100;
const O_CLOEXEC = 0o2000000;

const LIBC_SYMBOLS = {
  /** int open(const char *path, int flags, mode_t mode) */
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  /** int flock(int fd, int operation): try-lock, answers at once */
  flock: { parameters: ["i32", "i32"], result: "i32" },
  /** the same call when waiting (--wait): off the main thread, so signals are still heard */
  flock_wait: { name: "flock", parameters: ["i32", "i32"], result: "i32", nonblocking: true },
  /** int ftruncate(int fd, off_t length) */
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  /** ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset) */
  pwrite: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  /** int close(int fd) */
  close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

let libc: Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"] | undefined;

function c(): Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"] {
  libc ??= Deno.dlopen("libc.so.6", LIBC_SYMBOLS).symbols;
  return libc;
}

/** Who a lock file says holds it (the last holder's, if it is free now). */
export function readLockHolder(path: string): { pid?: number; host?: string; since?: string } {
  try {
    return JSON.parse(Deno.readTextFileSync(path).trim());
  } catch {
    return {};
  }
}

/**
 * Whether some process holds the lock file at `path` now (false when it does not exist). It
 * takes the lock for an instant to find out, writing nothing.
 */
export function lockHeld(path: string): boolean {
  let fd: number;
  try {
    Deno.statSync(path);
    fd = openLockFile(path);
  } catch {
    return false;
  }
  const free = c().flock(fd, LOCK_EX | LOCK_NB) === 0;
  c().close(fd);
  return !free;
}

/** Who holds a lock, as its file says ("" when it could not be read). */
function holderOf(path: string): string {
  const holder = readLockHolder(path);
  return holder.pid === undefined ? "another process" : `pid ${holder.pid} on ${holder.host}`;
}

function openLockFile(path: string): number {
  const fd = c().open(new TextEncoder().encode(path + "\0"), O_RDWR | O_CREAT | O_CLOEXEC, 0o644);
  if (fd < 0) {
    throw new UserError(`Cannot create the lock file "${path}"; make the output folder writable`);
  }
  return fd;
}

/** A held run-folder lock; release() (or the process's end) lets the next writer in. */
export class RunLock {
  readonly path: string;
  #fd: number;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  /**
   * Takes the lock of `dir` (the folder must exist). Held by another process: refused at once
   * with the holder named, or with `wait` blocks until it is free. `name` picks another lock
   * file in the folder (a shard's), `label` what a refusal calls it.
   */
  static async acquire(
    dir: string,
    opts: { wait?: boolean; name?: string; label?: string } = {},
  ): Promise<RunLock> {
    const path = join(dir, opts.name ?? LOCK_FILE);
    const fd = openLockFile(path);
    if (c().flock(fd, LOCK_EX | LOCK_NB) !== 0) {
      if (!opts.wait) {
        c().close(fd);
        throw new UserError(
          `${opts.label ?? `Run folder "${dir}"`} is in use by ${
            holderOf(path)
          }; wait for it to finish, pass --wait to queue behind it, or pick another --output-dir`,
        );
      }
      if (await c().flock_wait(fd, LOCK_EX) !== 0) {
        c().close(fd);
        throw new Error(`Waiting for the lock "${path}" failed`);
      }
    }
    return RunLock.#held(path, fd);
  }

  /** Takes the lock file `name` of `dir` if it is free; undefined when another process holds it. */
  static tryAcquire(dir: string, name: string): RunLock | undefined {
    const path = join(dir, name);
    const fd = openLockFile(path);
    if (c().flock(fd, LOCK_EX | LOCK_NB) === 0) return RunLock.#held(path, fd);
    c().close(fd);
    return undefined;
  }

  /** Writes the holder (pid, host) into the lock file just taken. */
  static #held(path: string, fd: number): RunLock {
    const holder = new TextEncoder().encode(
      JSON.stringify({ pid: Deno.pid, host: hostname(), since: new Date().toISOString() }) + "\n",
    );
    c().ftruncate(fd, 0n);
    c().pwrite(fd, holder, BigInt(holder.length), 0n);
    return new RunLock(path, fd);
  }

  /** Releases the lock (closing the descriptor drops the flock); safe to call twice. */
  release(): void {
    if (this.#fd < 0) return;
    c().close(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
