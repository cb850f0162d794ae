/**
 * The layout check CI runs (scripts/check_imports.ts) on planted trees: it must find a cycle
 * round three files, an import against the rules, an import of a missing file and a shared leaf
 * that imports something, and pass the repository itself.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { importCycles, importGraph, ruleViolations } from "../scripts/check_imports.ts";
import { REPO_ROOT } from "./support/paths.ts";

/** The import graph of a temporary tree holding `files`, removed once read. */
function graphOf(files: Record<string, string>): Map<string, string[]> {
  const root = mkdtempSync(join(tmpdir(), "rast-imports-"));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return importGraph(root);
  } finally {
    rmSync(root, { recursive: true });
  }
}

Deno.test("a loop of three files is one cycle; type-only and lazy imports count", () => {
  const graph = graphOf({
    "engine/a.ts": 'import { b } from "./b.ts";\nexport const a = b;\n',
    "engine/b.ts": 'import type { C } from "./c.ts";\nexport const b = 1;\n',
    "engine/c.ts": 'export type C = number;\nconst m = await import("./a.ts");\n',
    "engine/d.ts": '// import { a } from "./a.ts"; (a comment is no import)\nexport const d = 1;\n',
  });
  assert.deepEqual(graph.get("engine/d.ts"), []);
  assert.deepEqual(importCycles(graph), [["engine/a.ts", "engine/b.ts", "engine/c.ts"]]);
});

Deno.test("imports against the rules, of missing files and from leaves are each reported", () => {
  // file → the files it imports (as paths from the root)
  const imports: Record<string, string[]> = {
    "engine/errors.ts": ["datasets/grading/x.ts"],
    "engine/cache_dirs.ts": [],
    "tui/runs/atomic.ts": [],
    "datasets/grading/x.ts": ["engine/model.ts"],
    "datasets/grading/y.ts": ["engine/cache_dirs.ts"],
    "engine/model.ts": ["tui/app/state.ts"],
    "tui/app/state.ts": ["tui/app/gone.ts"],
  };
  const graph = graphOf(Object.fromEntries(
    Object.entries(imports).map(([file, targets]) => [
      file,
      targets.map((t, i) => `import * as m${i} from "./${relative(dirname(file), t)}";\n`).join(""),
    ]),
  ));
  assert.deepEqual(ruleViolations(graph).sort(), [
    "datasets/grading/x.ts: imports engine/model.ts; datasets/grading/ may import nothing outside itself",
    "engine/errors.ts: a shared leaf imports datasets/grading/x.ts; leaves import nothing",
    "engine/errors.ts: imports datasets/grading/x.ts; engine/ may import ffi/",
    "engine/model.ts: imports tui/app/state.ts; engine/ may import ffi/",
    "tui/app/state.ts: imports tui/app/gone.ts, which does not exist",
  ]);
});

Deno.test("the graph agrees with Deno's own module graph of main.ts, dynamic imports included", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(out.code, 0);
  type Dep = { code?: { specifier?: string }; type?: { specifier?: string } };
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; dependencies?: Dep[] }[];
  };
  const root = new URL(`file://${REPO_ROOT.replace(/\/$/, "")}/`).href;
  const local = (s?: string) => s?.startsWith(root) ? s.slice(root.length) : undefined;
  const graph = importGraph(REPO_ROOT);
  let compared = 0;
  for (const m of info.modules) {
    const file = local(m.specifier);
    if (!file || !/\.tsx?$/.test(file)) continue;
    const deps = (m.dependencies ?? []).map((d) => local(d.code?.specifier ?? d.type?.specifier))
      .filter((d): d is string => d !== undefined);
    assert.deepEqual(graph.get(file), [...new Set(deps)].sort(), file);
    compared++;
  }
  assert.ok(compared > 100, `only ${compared} modules compared`);
});

Deno.test("the repository itself has no cycle and keeps its rules", () => {
  const graph = importGraph(REPO_ROOT);
  assert.ok(graph.size > 200, `only ${graph.size} files read`);
  assert.deepEqual(importCycles(graph), []);
  assert.deepEqual(ruleViolations(graph), []);
});
