// The Node each side needs is stated where tools and people read it, and agrees (issue 15 item
// 12): the built tool's floor in package.json `engines` and the README's Set up; the developer's in
// `devEngines`, scripts/run-tests.mjs and the README's Development. The EBADENGINE warning npm
// gives on Node 20 for the pinned Claude Code is harmless only while what the tests run is a
// native executable, not a Node script: that is checked here too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { openSync, readFileSync, readSync, closeSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../helpers/bin.ts";

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  engines: { node: string };
  devEngines?: { runtime?: { name: string; version: string; onFail?: string } };
};
const readme = readFileSync(join(REPO, "README.md"), "utf8");

test("the runtime floor: engines >=20, and the README's Set up says Node ≥ 20", () => {
  assert.equal(pkg.engines.node, ">=20");
  const setUp = readme.slice(readme.indexOf("## Set up"), readme.indexOf("## Connect two sessions"));
  assert.match(setUp, /Node ≥ 20 \(package\.json `engines`; checked down to 20\.0\.0\)/);
});

test("the development floor: devEngines, the test runner and the README say Node 20.11", () => {
  assert.deepEqual(pkg.devEngines?.runtime, { name: "node", version: ">=20.11.0", onFail: "error" });
  const development = readme.slice(readme.indexOf("## Development"));
  assert.match(development, /Node 20\.11 or newer/);
  assert.match(development, /`EBADENGINE` for `@anthropic-ai\/claude-code@2\.1\.328`, which declares `node >=22`/);
  // The runner refuses an older Node by name rather than failing on node:test's flags; this Node
  // (the machines': 20.20.2) passes that check and gets as far as looking for the files.
  assert.match(readFileSync(join(REPO, "scripts/run-tests.mjs"), "utf8"), /the tests need Node 20\.11 or newer/);
  const r = spawnSync(process.execPath, [join(REPO, "scripts/run-tests.mjs"), "no-such-test-file-word"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no test files match/);
});

test("the pinned Claude Code the tests run is a native executable, so its engines field does not bind us", () => {
  const cc = JSON.parse(readFileSync(join(REPO, "node_modules/@anthropic-ai/claude-code/package.json"), "utf8")) as {
    version: string;
    engines?: { node?: string };
  };
  assert.match(
    readme,
    new RegExp(
      `@anthropic-ai/claude-code@${cc.version.replaceAll(".", "\\.")}\`, which declares \`node ${cc.engines?.node?.replace(/\.0\.0$/, "")}`,
    ),
  );
  const bin = realpathSync(join(REPO, "node_modules/.bin/claude"));
  const head = Buffer.alloc(4);
  const fd = openSync(bin, "r");
  readSync(fd, head, 0, 4, 0);
  closeSync(fd);
  const native =
    head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || // ELF
    [0xfeedfacf, 0xcffaedfe, 0xcafebabe].includes(head.readUInt32BE(0)); // Mach-O (64-bit, either order; universal)
  assert.ok(
    native,
    `${bin} starts with ${head.toString("hex")}, not a native executable's header: the postinstall did not run (npm ci --ignore-scripts?), or Claude Code became a Node script and needs its declared Node`,
  );
});
