/**
 * The layout's rules, checked over the import graph: no import cycle between files, and each
 * folder imports only the folders the README's "Dependency rules" allow. CI runs it; run it by
 * hand with `./rast check-imports` (or `deno run --allow-read scripts/check_imports.ts`), or
 * with `--graph` to print every file's imports.
 */
import { dirname, join, normalize, relative } from "node:path";

/**
 * Who may import whom: the first room whose prefix a file's path starts with is its room; a file
 * may import files of its own room and of the rooms listed. Keep in step with the README's
 * "Dependency rules".
 */
export const ROOMS: readonly { room: string; mayImport: readonly string[] }[] = [
  { room: "ffi/", mayImport: [] },
  { room: "engine/", mayImport: ["ffi/"] },
  { room: "datasets/grading/", mayImport: [] },
  { room: "datasets/", mayImport: ["datasets/grading/"] },
  { room: "tui/runs/", mayImport: ["engine/", "datasets/"] },
  { room: "tui/analysis/", mayImport: ["engine/events.ts", "datasets/", "tui/runs/"] },
  { room: "tui/checkpoints/", mayImport: [] },
  {
    room: "tui/app/",
    mayImport: [
      "engine/events.ts",
      "engine/debugger.ts",
      "datasets/grading/",
      "tui/analysis/behaviours.ts",
    ],
  },
  { room: "tui/cli/", mayImport: ["tui/", "engine/", "datasets/"] },
  { room: "main.ts", mayImport: ["tui/cli/", "engine/world.ts"] },
  { room: "scripts/", mayImport: ["datasets/", "engine/", "tui/"] },
  { room: "test/", mayImport: ["ffi/", "engine/", "datasets/", "tui/", "scripts/", "main.ts"] },
];

/**
 * Leaves every room may import: each imports nothing of rast (checked), so they add no
 * dependency between rooms: the user-error class, the cache folders, the atomic write.
 */
export const SHARED_LEAVES: readonly string[] = [
  "engine/errors.ts",
  "engine/cache_dirs.ts",
  "tui/runs/atomic.ts",
];

const SOURCE = /\.(ts|tsx)$/;
/**
 * Static imports and re-exports start a line (`import … from "./x.ts"`, `export … from`,
 * `import "./x.ts"`); a dynamic `import("./x.ts")` may stand anywhere but inside a string (a
 * test's planted file text), which an odd number of quotes before it on its line gives away.
 */
const STATIC = /^(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|^import\s*["']([^"']+)["']/gm;
const DYNAMIC = /import\(\s*["']([^"']+)["']\s*\)/g;

function insideString(text: string, at: number): boolean {
  const line = text.slice(text.lastIndexOf("\n", at) + 1, at).replace(/\\./g, "");
  return ["'", '"', "`"].some((q) => line.split(q).length % 2 === 0);
}

/** The relative specifiers a TypeScript source imports, statically or lazily. */
export function specifiers(source: string): string[] {
  // comments may quote imports (as this file's own header does)
  const text = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found = [...text.matchAll(STATIC)].map((m) => m[1] ?? m[2]);
  for (const m of text.matchAll(DYNAMIC)) if (!insideString(text, m.index!)) found.push(m[1]);
  return found.filter((spec) => spec.startsWith(".")); // npm:, node: and mapped packages aside
}

function walk(root: string, dir: string, out: string[]): void {
  for (const entry of Deno.readDirSync(join(root, dir))) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory) {
      if (
        entry.name.startsWith(".") || ["fixtures", "build", "node_modules"].includes(entry.name)
      ) {
        continue;
      }
      walk(root, path, out);
    } else if (entry.isFile && SOURCE.test(entry.name)) {
      out.push(path);
    }
  }
}

/** Every TypeScript file under the top-level folders (and main.ts) with its relative imports. */
export function importGraph(root: string): Map<string, string[]> {
  const files: string[] = [];
  for (const top of ["main.ts", "engine", "ffi", "tui", "datasets", "scripts", "test"]) {
    try {
      const info = Deno.statSync(join(root, top));
      if (info.isFile) files.push(top);
      else walk(root, top, files);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const graph = new Map<string, string[]>();
  for (const file of files.sort()) {
    const source = Deno.readTextFileSync(join(root, file));
    const targets = new Set(specifiers(source).map((spec) => normalize(join(dirname(file), spec))));
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** Strongly connected components of more than one file (Tarjan), each sorted. */
export function importCycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (graph.get(v) ?? []).includes(v);
      if (component.length > 1 || selfLoop) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

function roomOf(file: string): (typeof ROOMS)[number] | undefined {
  return ROOMS.find(({ room }) => file.startsWith(room));
}

/** Imports that break a rule, one line each: the file, the import, and the rule. */
export function ruleViolations(graph: Map<string, string[]>): string[] {
  const problems: string[] = [];
  for (const leaf of SHARED_LEAVES) {
    if (!graph.has(leaf)) problems.push(`${leaf}: a shared leaf that does not exist`);
    else if (graph.get(leaf)!.length) {
      problems.push(
        `${leaf}: a shared leaf imports ${graph.get(leaf)!.join(", ")}; leaves import nothing`,
      );
    }
  }
  for (const [file, targets] of graph) {
    const rule = roomOf(file);
    if (!rule) {
      problems.push(`${file}: in no room of the dependency rules (add it to ROOMS and the README)`);
      continue;
    }
    for (const target of targets) {
      if (!graph.has(target)) {
        problems.push(`${file}: imports ${target}, which does not exist`);
        continue;
      }
      if (roomOf(target)?.room === rule.room || SHARED_LEAVES.includes(target)) continue;
      const allowed = rule.mayImport.some((p) => target.startsWith(p));
      if (!allowed) {
        problems.push(
          `${file}: imports ${target}; ${rule.room} may import ${
            rule.mayImport.length ? rule.mayImport.join(", ") : "nothing outside itself"
          }`,
        );
      }
    }
  }
  return problems;
}

if (import.meta.main) {
  const root =
    relative(Deno.cwd(), normalize(join(dirname(new URL(import.meta.url).pathname), ".."))) ||
    ".";
  const graph = importGraph(root);
  if (Deno.args.includes("--graph")) {
    for (const [file, targets] of graph) console.log(`${file}: ${targets.join(" ")}`);
  }
  const problems = [
    ...importCycles(graph).map((c) => `import cycle: ${c.join(" -> ")}`),
    ...ruleViolations(graph),
  ];
  for (const p of problems) console.error(p);
  if (problems.length) {
    console.error(`check_imports: ${problems.length} problem(s) in ${graph.size} files`);
    Deno.exit(1);
  }
  console.error(`check_imports: ${graph.size} files, no cycle, every import within the rules`);
}
