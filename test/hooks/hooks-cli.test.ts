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

test("a missing or unknown hook name exits 1 (never 2, which would block the prompt) with one line: the name meant, or the hooks", (t) => {
  const env = hookEnv(tempRoot(t), "web");
  const cases: [string[], string][] = [
    [["hook", "gaurd"], 'unknown hook "gaurd" — did you mean guard?'],
    [["hook", "recvv"], 'unknown hook "recvv" — did you mean recv?'],
    [["hook", "recieve"], 'unknown hook "recieve"; the hooks: recv, guard, send, wait'],
    [["hook"], "missing hook name; the hooks: recv, guard, send, wait"],
  ];
  for (const [args, said] of cases) {
    const r = run(args, env);
    assert.equal(r.status, 1, args.join(" "));
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `session-bridge hook: ${said} (session-bridge hook --help says what each does)\n`);
  }
});

test("the main usage lists the hook commands", () => {
  const r = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^ {2}hook recv +UserPromptSubmit\/SessionStart/m);
  assert.match(r.stdout, /^ {2}hook wait +Stop with asyncRewake/m);
});
