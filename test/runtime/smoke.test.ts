import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, REPO } from "../helpers/bin.ts";

test("--version prints the package version", () => {
  const r = spawnSync(process.execPath, [BIN, "--version"], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  // package.json read here, not through the build's __VERSION__: a stale or wrong define must fail.
  const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
  assert.equal(r.stdout, `${version}\n`);
});

test("an unknown command is named on stderr, with the commands, and exits 2", () => {
  const r = spawnSync(process.execPath, [BIN, "frobnicate"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "frobnicate"; the commands: .*send.*\(session-bridge --help says what each does\)\n$/);
  assert.equal(r.stdout, "");
});
