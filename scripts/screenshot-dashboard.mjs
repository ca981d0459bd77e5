#!/usr/bin/env node
// Writes docs/dashboard.png (or the path given): the dashboard on a seeded demo root, in Debian's
// Chromium. The demo and the capture live in test/fixtures/dashboard-screenshot.ts, built with the tests.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const run = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(["build.mjs", "--tests"]);
run([join(root, "dist/test/fixtures/dashboard-screenshot.mjs"), ...process.argv.slice(2)]);
