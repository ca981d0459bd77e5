#!/usr/bin/env node
// Runs the bundled tests (dist/test, made by `node build.mjs --tests`) with node:test.
//   node scripts/run-tests.mjs                 every test file
//   node scripts/run-tests.mjs guard bus       only files whose path contains one of the words
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const words = process.argv.slice(2);

function list(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...list(p));
    else if (e.name.endsWith(".test.mjs")) out.push(p);
  }
  return out.sort();
}

const files = list(join(root, "dist/test")).filter((f) => words.length === 0 || words.some((w) => f.includes(w)));
if (files.length === 0) {
  console.error(`no test files match ${JSON.stringify(words)} under dist/test; run \`node build.mjs --tests\` first`);
  process.exit(2);
}
// Two files at a time: the machines have 2 cores and most tests wait on child processes.
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=2", "--test-timeout=300000", ...files], {
  stdio: "inherit",
  cwd: root,
});
process.exit(result.status ?? 1);
