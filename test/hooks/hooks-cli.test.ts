import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { BIN } from "../helpers/bin.ts";
import { hookEnv, tempRoot } from "../helpers/hooks.ts";

function run(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [BIN, ...args], { env, input: "", encoding: "utf8" });
}

test("hook --help prints the four hooks on stdout", (t) => {
  const r = run(["hook", "--help"], hookEnv(tempRoot(t), "web"));
  assert.equal(r.status, 0);
  for (const name of ["recv", "guard", "send", "wait"]) assert.match(r.stdout, new RegExp(`^  ${name} `, "m"));
});

test("a missing or unknown hook name exits 1 (never 2, which would block the prompt) with the usage", (t) => {
  const env = hookEnv(tempRoot(t), "web");
  for (const args of [["hook"], ["hook", "recieve"]]) {
    const r = run(args, env);
    assert.equal(r.status, 1, args.join(" "));
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^session-bridge hook: (missing hook name|unknown hook "recieve")\nusage: session-bridge hook <name>/);
  }
});

test("the main usage lists the hook commands", () => {
  const r = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^ {2}hook recv +UserPromptSubmit\/SessionStart/m);
  assert.match(r.stdout, /^ {2}hook wait +Stop with asyncRewake/m);
});
