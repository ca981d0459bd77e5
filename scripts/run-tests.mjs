#!/usr/bin/env node
// Runs the bundled tests (dist/test, made by `node build.mjs --tests`) with node:test.
//   node scripts/run-tests.mjs                 every test file
//   node scripts/run-tests.mjs guard bus       only files whose path contains one of the words
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

// node:test's --test-concurrency came in Node 20.10 and --test-timeout in 20.11 (package.json
// devEngines, which npm checks for `npm ci` and `npm test`; this is for running the script alone).
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 11)) {
  console.error(`the tests need Node 20.11 or newer (node:test's --test-timeout); this is ${process.version}`);
  process.exit(2);
}
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
