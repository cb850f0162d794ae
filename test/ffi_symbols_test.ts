// ffi/symbols.ts against ffi/include/rast.h: every function of the header, with its parameters'
// FFI types, and nothing the header does not declare.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ABI_VERSION, symbols } from "../ffi/symbols.ts";
import { REPO_ROOT } from "./support/paths.ts";

const header = Deno.readTextFileSync(join(REPO_ROOT, "ffi", "include", "rast.h"));

/** The FFI type a C parameter or result crosses as: handles and C strings returned are
 * pointers, every other pointer a caller-owned buffer. */
function ffiType(c: string, result: boolean): string {
  const t = c.replace(/\b(const|struct)\b/g, "").replace(/\s+/g, " ").trim();
  if (t.includes("*")) {
    const handle = /^rast_(model|group) \*$/.test(t.replace(/\s*\*\s*/, " *"));
    return result || handle ? "pointer" : "buffer";
  }
  const scalar: Record<string, string> = {
    "int32_t": "i32",
    "int64_t": "i64",
    "uint64_t": "u64",
    "float": "f32",
    "void": "void",
  };
  assert.ok(scalar[t], `no FFI type for C type "${c}"`);
  return scalar[t];
}

/** Declarations `ret name(params);` of the header, comments removed. */
function declarations() {
  const code = header.replace(/\/\*[\s\S]*?\*\//g, "");
  const out = new Map<string, { result: string; parameters: string[] }>();
  const re = /^([a-z_0-9 ]+?\**)\s*\b(rast_[a-z_0-9]+)\(([^)]*)\);/gm;
  for (const m of code.matchAll(re)) {
    const params = m[3].trim() === "void" ? [] : m[3].split(",").map((p) =>
      // Drop the parameter name: the last identifier.
      p.trim().replace(/\b[a-z_0-9]+$/, "")
    );
    out.set(m[2], {
      result: ffiType(m[1], true),
      parameters: params.map((p) => ffiType(p, false)),
    });
  }
  return out;
}

Deno.test("symbols.ts declares exactly rast.h's functions with matching parameter types", () => {
  const declared = declarations();
  assert.ok(declared.size >= 20, `parsed ${declared.size} declarations`);
  assert.deepEqual(Object.keys(symbols).sort(), [...declared.keys()].sort());
  for (const [name, c] of declared) {
    const s = symbols[name as keyof typeof symbols];
    assert.deepEqual([...s.parameters], c.parameters, `${name} parameters`);
    assert.equal(s.result, c.result, `${name} result`);
  }
});

Deno.test("symbols.ts's ABI version is rast.h's", () => {
  const m = header.match(/#define RAST_ABI_VERSION (\d+)/);
  assert.equal(Number(m?.[1]), ABI_VERSION);
});
