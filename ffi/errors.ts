/** Typed errors for the shim's return codes. */
import { Status } from "./symbols.ts";

const codeNames: Record<number, string> = {
  [Status.INVALID_ARGUMENT]: "invalid argument",
  [Status.IO]: "file error",
  [Status.FORMAT]: "format error",
  [Status.UNSUPPORTED]: "unsupported",
  [Status.CAPACITY]: "capacity",
  [Status.BACKEND]: "backend error",
};

/** A failure reported by the shim: `code` is a RAST_E_* value, the message is the shim's. */
export class EngineError extends Error {
  override name = "EngineError";
  constructor(readonly code: number, message: string) {
    super(message);
  }
  /** A short name for the code ("file error", ...). */
  get kind(): string {
    return codeNames[this.code] ?? `code ${this.code}`;
  }
  /** True when the caller's input (files, arguments) is at fault rather than the runtime. */
  get isUserError(): boolean {
    return this.code === Status.IO || this.code === Status.FORMAT ||
      this.code === Status.UNSUPPORTED || this.code === Status.INVALID_ARGUMENT;
  }
}

/** The shim library could not be loaded; the message lists every path tried. */
export class LibraryLoadError extends Error {
  override name = "LibraryLoadError";
}
