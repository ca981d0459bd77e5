// The layer rule of src/ (docs/architecture.md "Layers"): every import points down, never up or
// sideways, and nothing imports in a circle. This reads the source as text, so a new file or a
// new import is judged the moment it is written; each failure names the offending import.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { REPO } from "./helpers/bin.ts";

const SRC = join(REPO, "src");

/**
 * Lowest first. A file may import its own unit or any unit of a lower layer; units of the same
 * layer may not import each other. A unit is a folder (trailing "/") or one file.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ["lib/"],
  ["runtime/", "shell/", "agents/"],
  ["bus/"],
  ["bus.ts"],
  ["store/"],
  ["settings/"],
  ["wake/", "guard/", "shim/"],
  ["hooks/", "mcp/", "spawner/"],
  ["install/", "cli/", "dashboard/"],
  ["hooks.ts", "mcp.ts", "spawner.ts", "install.ts", "git-shim.ts"],
  ["main.ts", "fast-start.ts"],
];

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
  line: number;
}

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...listSources(path));
    else if (/\.(ts|js)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(relative(SRC, path));
  }
  return out.sort();
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/** Every relative import of a source file, resolved to a path under src/; package imports as "pkg:NAME". */
export function importsOf(file: string, text = readFileSync(join(SRC, file), "utf8")): Import[] {
  const found: Import[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[3] ?? m[4]!;
    const line = text.slice(0, m.index).split("\n").length + (m[0].startsWith("\n") ? 1 : 0);
    if (spec.startsWith("node:")) continue;
    const to = spec.startsWith(".") ? relative(SRC, resolve(SRC, dirname(file), spec)) : `pkg:${spec}`;
    found.push({ from: file, to, typeOnly: m[2] !== undefined, line });
  }
  return found;
}

function unitOf(file: string): { unit: string; layer: number } | undefined {
  for (const [layer, units] of LAYERS.entries()) {
    for (const unit of units) if (unit.endsWith("/") ? file.startsWith(unit) : file === unit) return { unit, layer };
  }
  return undefined;
}

/** Why an import breaks the rule, or undefined when it is allowed. */
export function layerViolation(imp: Import): string | undefined {
  if (imp.to.startsWith("pkg:")) return undefined;
  const a = unitOf(imp.from);
  const b = unitOf(imp.to);
  if (!a) return `${imp.from} is in no layer (add its folder to LAYERS in test/architecture.test.ts and docs/architecture.md)`;
  if (!b) return `${imp.from}:${imp.line} imports ${imp.to}, which is in no layer`;
  if (a.unit === b.unit || b.layer < a.layer) return undefined;
  const how = b.layer === a.layer ? "sideways (same layer)" : "up";
  return `${imp.from}:${imp.line} imports ${imp.to}: ${how} from ${a.unit} (layer ${a.layer}) to ${b.unit} (layer ${b.layer})`;
}

/** Import cycles among files (type-only imports count: they tie the files' meaning together). */
export function findCycles(imports: readonly Import[]): string[][] {
  const edges = new Map<string, string[]>();
  for (const i of imports) if (!i.to.startsWith("pkg:")) edges.set(i.from, [...(edges.get(i.from) ?? []), i.to]);
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, "open");
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

/** Files reached from `start` through imports that are executed (type-only imports are erased). */
function runtimeClosure(start: string, all: Map<string, Import[]>, lazy: boolean): Set<string> {
  const seen = new Set<string>();
  const text = (f: string): string => readFileSync(join(SRC, f), "utf8");
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const i of all.get(file) ?? []) {
      if (i.typeOnly) continue;
      // A dynamic import() is a bundle of its own, loaded only when that command runs.
      const dynamic = new RegExp(`import\\(\\s*["'][^"']*${i.to.split("/").pop()!.replace(/\./g, "\\.")}["']`).test(text(file));
      if (dynamic && !lazy) continue;
      if (i.to.startsWith("pkg:")) seen.add(i.to);
      else walk(i.to);
    }
  };
  walk(start);
  return seen;
}

const files = listSources(SRC);
const all = new Map(files.map((f) => [f, importsOf(f)]));
const imports = [...all.values()].flat();

test("every import points down the layers (docs/architecture.md)", () => {
  const bad = imports.map(layerViolation).filter((v) => v !== undefined);
  assert.deepEqual(bad, []);
});

test("no import cycles", () => {
  assert.deepEqual(
    findCycles(imports).map((c) => c.join(" → ")),
    [],
  );
});

test("no hook reaches the MCP SDK; runtime/ needs nothing but lib/", () => {
  for (const hook of ["hooks.ts", ...files.filter((f) => f.startsWith("hooks/"))]) {
    const reached = [...runtimeClosure(hook, all, true)].filter(
      (f) => f.startsWith("mcp") || f.includes("modelcontextprotocol") || f.includes("zod"),
    );
    assert.deepEqual(reached, [], `${hook} reaches ${reached.join(", ")}`);
  }
  // The entry itself (what every hook parses) holds no command but the hook dispatcher (and
  // agents/agent.ts, import-free, for its --agent flag).
  const entry = [...runtimeClosure("main.ts", all, false)].filter(
    (f) => !/^(main\.ts|hooks\.ts|hooks\/io\.ts|agents\/agent\.ts|bus\/(layout|names)\.ts|lib\/|runtime\/)/.test(f),
  );
  assert.deepEqual(entry, [], `the entry statically loads ${entry.join(", ")}`);
});

test("the rule catches what it claims to (a planted up-import, sideways import and cycle)", () => {
  assert.match(
    layerViolation({ from: "lib/fs.ts", to: "bus/layout.ts", typeOnly: false, line: 3 }) ?? "",
    /lib\/fs\.ts:3 imports bus\/layout\.ts: up/,
  );
  assert.match(layerViolation({ from: "hooks/recv.ts", to: "mcp/context.ts", typeOnly: true, line: 9 }) ?? "", /sideways/);
  assert.match(layerViolation({ from: "runtime/embedded.ts", to: "bus/layout.ts", typeOnly: false, line: 1 }) ?? "", /up from runtime\//);
  assert.equal(layerViolation({ from: "bus/inbox.ts", to: "lib/fs.ts", typeOnly: false, line: 1 }), undefined);
  assert.match(layerViolation({ from: "newfolder/x.ts", to: "lib/fs.ts", typeOnly: false, line: 1 }) ?? "", /in no layer/);
  const planted = importsOf(
    "lib/x.ts",
    'import { a } from "../bus/y.ts";\nimport type { B } from "./z.ts";\nconst m = await import("../cli/c.ts");',
  );
  assert.deepEqual(
    planted.map((i) => [i.to, i.typeOnly, i.line]),
    [
      ["bus/y.ts", false, 1],
      ["lib/z.ts", true, 2],
      ["cli/c.ts", false, 3],
    ],
  );
  assert.deepEqual(
    findCycles([
      { from: "a.ts", to: "b.ts", typeOnly: false, line: 1 },
      { from: "b.ts", to: "a.ts", typeOnly: true, line: 1 },
    ]),
    [["a.ts", "b.ts", "a.ts"]],
  );
});
