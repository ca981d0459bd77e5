// The .cjs keeps its entry as a comment and compiles it in its first lines, unless a hook has
// nothing to do (build.mjs "prelude"): then nothing is compiled at all. What the prelude answers
// alone must be what the entry answers (src/hooks.ts), and everything else must reach the entry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "../helpers/bin.ts";
import { cleanEnv } from "../helpers/cli.ts";

const push = JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "git push" } });
const prompt = JSON.stringify({ hook_event_name: "UserPromptSubmit", session_id: "s1", prompt: "hi" });

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Whether the entry was compiled: a second Module.prototype._compile of the file. */
  compiled: boolean;
}

function setup(): { run: (args: string[], env: Record<string, string>, input?: string) => Run; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "sb-prelude-"));
  const probe = join(dir, "probe.cjs");
  const report = join(dir, "compiles.json");
  // Counts the compiles of the binary's own file, and writes the count at exit.
  writeFileSync(
    probe,
    `const M = require("node:module"); const c = M.prototype._compile; let n = 0;
M.prototype._compile = function (content, filename) { if (filename === ${JSON.stringify(BIN)}) n++; return c.apply(this, arguments); };
process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(report)}, String(n)));\n`,
  );
  const run = (args: string[], env: Record<string, string>, input = prompt): Run => {
    rmSync(report, { force: true });
    const r = spawnSync(process.execPath, ["-r", probe, BIN, ...args], { env: cleanEnv(env), input, encoding: "utf8" });
    const compiles = Number(readFileSync(report, "utf8"));
    assert.ok(compiles === 1 || compiles === 2, `compiles: ${compiles}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, compiled: compiles === 2 };
  };
  return { run, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test("a hook outside a bridged session compiles nothing, and answers as the entry does", (t) => {
  const { run, done } = setup();
  t.after(done);
  for (const hook of ["recv", "guard", "send", "wait"]) {
    const input = hook === "guard" ? push : prompt;
    // An empty BRIDGE_* counts as unset, here as in src/lib/env.ts; BRIDGE_ROOT names no identity.
    const root = join(tmpdir(), "sb-prelude-no-root");
    for (const env of [{}, { BRIDGE_PROJECT: "" }, { CLAUDE_ENV_FILE: "" }, { BRIDGE_ROOT: root }] as Record<string, string>[]) {
      const fast = run(["hook", hook], env, input);
      assert.equal(fast.compiled, false, `hook ${hook} with ${JSON.stringify(env)} compiled the entry`);
      assert.deepEqual([fast.status, fast.stdout, fast.stderr], [0, "", ""]);
    }
    // The entry's own answer for the same session: any other BRIDGE_* variable sends it there,
    // even one that names no identity.
    const slow = run(["hook", hook], { BRIDGE_ROOT: root, BRIDGE_SEND_TO: "api" }, input);
    assert.equal(slow.compiled, true);
    assert.deepEqual([slow.status, slow.stdout, slow.stderr], [0, "", ""], `the entry's answer to hook ${hook}`);
  }
});

test("every other run reaches the entry: identities, a typo'd BRIDGE_*, the git shim's SessionStart, flags, other commands", (t) => {
  const { run, done } = setup();
  t.after(done);
  // Half an identity, or an unknown BRIDGE_* name: bridged for the guard, which denies.
  for (const env of [{ BRIDGE_PROJECT: "shop" }, { BRIDGE_PORJECT: "shop" }, { BRIDGE_BLOCK_GIT_ALL: "1" }] as Record<string, string>[]) {
    const r = run(["hook", "guard"], env, push);
    assert.equal(r.compiled, true, JSON.stringify(env));
    assert.match(r.stdout, /"permissionDecision":"deny"/, JSON.stringify(env));
  }
  // recv with half an identity tells the session what is wrong.
  const half = run(["hook", "recv"], { BRIDGE_PROJECT: "shop" });
  assert.equal(half.compiled, true);
  assert.match(half.stdout, /BRIDGE_ROLE/);
  // SessionStart with CLAUDE_ENV_FILE: the entry takes the git shim out of it.
  const dir = mkdtempSync(join(tmpdir(), "sb-prelude-env-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const envFile = join(dir, "env.sh");
  writeFileSync(envFile, "");
  const start = JSON.stringify({ hook_event_name: "SessionStart", session_id: "s1", source: "startup" });
  assert.equal(run(["hook", "recv"], { CLAUDE_ENV_FILE: envFile }, start).compiled, true);
  // Arguments after the hook's name, an unknown hook, and any other command.
  assert.equal(run(["hook", "recv", "--agent", "codex"], {}).compiled, true);
  const unknown = run(["hook", "recieve"], {});
  assert.equal(unknown.compiled, true);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown hook "recieve"/);
  const version = run(["--version"], {});
  assert.equal(version.compiled, true);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});
