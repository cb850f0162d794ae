/**
 * An owned shim handle that is never freed under a running call: close() during a nonblocking
 * call (the UI quitting mid-step, a `using` scope ending before an await) defers the free until
 * the call returns, instead of freeing memory another thread is using.
 */
export class NativeHandle {
  #pointer: Deno.PointerValue;
  #busy = 0;
  #closed = false;

  constructor(
    pointer: Deno.PointerValue,
    readonly what: string,
    readonly free: (p: Deno.PointerValue) => void,
  ) {
    this.#pointer = pointer;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The pointer for a synchronous call; throws once closed. */
  get live(): Deno.PointerValue {
    if (this.#closed) throw new Error(`The ${this.what} is closed`);
    return this.#pointer;
  }

  /** Runs an async call with the handle held: a close() meanwhile waits for it to finish. */
  async hold<T>(call: (pointer: Deno.PointerValue) => Promise<T>): Promise<T> {
    const pointer = this.live;
    this.#busy++;
    try {
      return await call(pointer);
    } finally {
      this.#busy--;
      if (this.#closed && this.#busy === 0) this.#release();
    }
  }

  /** Frees now, or when the last running call returns; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#busy === 0) this.#release();
  }

  #release(): void {
    if (!this.#pointer) return;
    const pointer = this.#pointer;
    this.#pointer = null;
    this.free(pointer);
  }
}
