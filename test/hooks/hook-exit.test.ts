// A hook that has answered and has nothing left running exits at once (src/main.ts), skipping
// Node's teardown; one with work pending (its code cache to write) ends normally, and the work is done.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";

const push = JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "git push" } });

test("a bridged hook exits as soon as it has answered, except while its code cache is still to be written", (t) => {
  const root = makeRoot(t);
  mkdirSync(root, { mode: 0o700 });
  // A preload that reports at exit whether the event loop drained ("beforeExit" is not emitted
  // when process.exit() is called).
  const probe = `${root}-probe.cjs`;
  const report = `${root}-probe.json`;
  writeFileSync(
    probe,
    `let drained = false; process.on("beforeExit", () => { drained = true; });
process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify(drained)));\n`,
  );
  t.after(() => {
    rmSync(probe, { force: true });
    rmSync(report, { force: true });
  });
  const env = cleanEnv({ BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" });
  const run = (): boolean => {
    const r = spawnSync(process.execPath, ["-r", probe, BIN, "hook", "guard"], { env, input: push, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /"permissionDecision":"deny"/, r.stderr);
    return JSON.parse(readFileSync(report, "utf8")) as boolean;
  };
  assert.equal(run(), true, "the first run writes the guard's code cache after answering: it ends normally");
  assert.equal(readdirSync(join(root, "cache")).filter((f) => f.startsWith("bundle-hook-guard-")).length, 1, "and the cache is written");
  assert.equal(run(), false, "with nothing left to do, the hook exits at once");
});
