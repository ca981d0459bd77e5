// "Nothing escapes the root": after hostile input, the scratch folder holds only the bridge root,
// the root holds only the layout of src/bus/layout.ts, every project and role folder has a valid name,
// and there is no symbolic link anywhere.
import { lstatSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";

// The name rule as README states it (E_BAD_NAME: 1–64 of A-Z a-z 0-9 . _ - starting with a letter
// or digit), written out: not layout.ts's NAME_PATTERN, which a loosened rule would move too.
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const ROOT_ENTRIES = /^(projects|spawner|cache|bridge-settings\.json(\.lock)?|bridge-settings\.json\.\d+\.[0-9a-f]+\.tmp)$/;
// src/runtime/code-cache.ts: one V8 cache per embedded bundle (and the entry: bundle-entry-…) and build (temp + rename while written).
const CACHE_ENTRIES = /^(bundle-[a-z-]+-[0-9a-f]{16}-v[0-9.]+-[a-z0-9]+\.v8cache|[^/]+\.\d+\.[0-9a-f]+\.tmp)$/;
const ROLE_ENTRIES =
  /^(inbox\.jsonl(\.compact)?|cursor\.json|receipts\.jsonl|lock|lock\.break|chain\.json|wake\.json|wake\.lock|waiter\.json|sessions|history|[a-z.]+\.\d+\.[0-9a-f]+\.tmp)$/;

/** Problems found; [] when the tree is exactly what the store makes. `extra` names allowed siblings of the root. */
export function treeProblems(scratch: string, root: string, extra: readonly string[] = []): string[] {
  const problems: string[] = [];
  for (const name of readdirSync(scratch)) {
    if (join(scratch, name) !== root && !extra.includes(name)) problems.push(`unexpected ${join(scratch, name)} next to the root`);
  }
  const walk = (path: string, depth: number): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) problems.push(`symbolic link ${path}`);
    if (!st.isDirectory()) return;
    for (const name of readdirSync(path)) {
      const child = join(path, name);
      const parent = basename(path);
      if (depth === 0 && !ROOT_ENTRIES.test(name)) problems.push(`unexpected ${child} in the root`);
      if (depth === 1 && parent === "cache" && !CACHE_ENTRIES.test(name)) problems.push(`unexpected ${child} in the code cache`);
      if (depth === 1 && parent === "projects" && !NAME_PATTERN.test(name))
        problems.push(`project folder with a bad name: ${JSON.stringify(name)}`);
      if (depth === 2 && path.includes("/projects/") && !NAME_PATTERN.test(name))
        problems.push(`role folder with a bad name: ${JSON.stringify(name)}`);
      if (depth === 3 && path.includes("/projects/") && !ROLE_ENTRIES.test(name)) problems.push(`unexpected ${child} in a role folder`);
      walk(child, depth + 1);
    }
  };
  walk(root, 0);
  return problems;
}
