/**
 * Loads the shim (librast.so) once per process: RAST_LIB first, then the local build. On
 * failure one error lists every path tried with its cause and the fix.
 */
import { fileURLToPath } from "node:url";
import { ABI_VERSION, Status, symbols } from "./symbols.ts";
import { EngineError, LibraryLoadError } from "./errors.ts";

export type RastLib = Deno.DynamicLibrary<typeof symbols>["symbols"];

let loaded: RastLib | null = null;

function candidates(): string[] {
  const paths: string[] = [];
  const env = Deno.env.get("RAST_LIB");
  if (env) paths.push(env);
  const local = fileURLToPath(new URL("./build/librast.so", import.meta.url));
  if (!paths.includes(local)) paths.push(local);
  return paths;
}

/** The shim's symbols, loading the library on first use. */
export function lib(): RastLib {
  if (loaded) return loaded;
  const tried: string[] = [];
  for (const path of candidates()) {
    try {
      Deno.statSync(path);
    } catch {
      tried.push(`${path} (not found)`);
      continue;
    }
    try {
      const symbolsOf = Deno.dlopen(path, symbols).symbols;
      const abi = symbolsOf.rast_abi_version();
      if (abi !== ABI_VERSION) {
        tried.push(`${path} (ABI ${abi}, expected ${ABI_VERSION}: a stale build)`);
        continue;
      }
      loaded = symbolsOf;
      return loaded;
    } catch (err) {
      tried.push(`${path} (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  throw new LibraryLoadError(
    `Cannot load the rast shim; tried:\n  ${tried.join("\n  ")}\n` +
      "Build it with ./rast (which runs make -C ffi), or set RAST_LIB to a built librast.so.",
  );
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A NUL-terminated UTF-8 copy of s (sized in bytes, not string.length). */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

const text = (ptr: Deno.PointerValue) => (ptr ? new Deno.UnsafePointerView(ptr).getCString() : "");

/** The shim's last error of a call without a handle, on this thread. */
export function lastError(): string {
  return text(lib().rast_last_error());
}

/** The message of a model handle's last failure. */
export const modelError = (m: Deno.PointerValue) => (): string => text(lib().rast_model_error(m));
/** The message of the last failed call on the process world (rast_world_*). */
export const worldError = (): string => text(lib().rast_world_error());
/** The message of a group handle's last failure. */
export const groupError = (g: Deno.PointerValue) => (): string => text(lib().rast_group_error(g));

/**
 * Throws EngineError for a non-zero status, with the message the call left: a handle's
 * (modelError / groupError), or this thread's for calls without a handle.
 */
export function unwrap(code: number, message: () => string = lastError): void {
  if (code !== Status.OK) throw new EngineError(code, message() || `rast call failed (${code})`);
}

/** Reads a JSON text out of a `(buf, cap, *len)` style function, growing the buffer if needed. */
export function readJson(
  call: (buf: Uint8Array, cap: bigint, len: BigInt64Array) => number,
  error: () => string = lastError,
) {
  let cap = 4096;
  for (;;) {
    const buf = new Uint8Array(cap);
    const len = new BigInt64Array(1);
    unwrap(call(buf, BigInt(cap), len), error);
    const n = Number(len[0]);
    if (n < cap) return JSON.parse(decoder.decode(buf.subarray(0, n)));
    cap = n + 1;
  }
}
