import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, REPO } from "../helpers/bin.ts";
import { bundleRunAlone } from "../../src/hooks.ts";
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

test("the hooks the launcher's fast start runs on their own are the guard, and recv when it needs no other bundle", () => {
  assert.equal(bundleRunAlone("guard", {}), "hook-guard");
  assert.equal(bundleRunAlone("recv", {}), "hook-recv");
  assert.equal(bundleRunAlone("recv", { BRIDGE_URL: " " }), "hook-recv", "a blank BRIDGE_URL is the file store");
  // SessionStart's git shim and the Redis store are bundles of their own, loaded through the entry.
  assert.equal(bundleRunAlone("recv", { CLAUDE_ENV_FILE: "/tmp/env" }), undefined);
  assert.equal(bundleRunAlone("recv", { BRIDGE_URL: "redis://127.0.0.1:6379" }), undefined);
  for (const name of ["send", "wait", "recieve", undefined]) assert.equal(bundleRunAlone(name, {}), undefined);
  // Each is built as that bundle, with a code cache: the fast start runs nothing else.
  const { bundles } = JSON.parse(readFileSync(join(REPO, "src/runtime/bundles.json"), "utf8")) as {
    bundles: Record<string, { module: string; codeCache: boolean }>;
  };
  assert.deepEqual(bundles["hook-guard"], { ...bundles["hook-guard"], module: "hooks/guard.ts", codeCache: true });
  assert.deepEqual(bundles["hook-recv"], { ...bundles["hook-recv"], module: "hooks/recv.ts", codeCache: true });
});
