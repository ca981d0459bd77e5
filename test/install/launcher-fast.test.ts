// The launchers (install's and the plugin's, src/install/home.ts) answer a hook outside a bridged
// session in sh, without starting node; every other run reaches node. Either way the answer must
// be the one the program gives run directly (its prelude and src/hooks.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BIN, REPO } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";

const push = JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "git push" } });
const prompt = JSON.stringify({ hook_event_name: "UserPromptSubmit", session_id: "s1", prompt: "hi" });
const start = JSON.stringify({ hook_event_name: "SessionStart", session_id: "s1", source: "startup" });

interface Case {
  args: string[];
  env: Record<string, string>;
  input: string;
  /** Whether node must start: false only where the launcher can tell there is nothing to do. */
  node: boolean;
}

test("a hook outside a bridged session is answered by the launcher alone; every other run by node, with the program's own answer", (t) => {
  const root = makeRoot(t);
  const base = dirname(root);
  // A node on PATH that notes each start with its first argument, then runs the real one.
  const fakeBin = join(base, "fake-bin");
  const log = join(base, "node-starts.log");
  mkdirSync(fakeBin);
  writeFileSync(join(fakeBin, "node"), `#!/bin/sh\necho "start $1" >> '${log}'\nexec '${process.execPath}' "$@"\n`);
  chmodSync(join(fakeBin, "node"), 0o755);
  const PATH = `${fakeBin}:/usr/bin:/bin`;
  // install's launcher, run by the noted node.
  const home = join(base, "home");
  mkdirSync(home);
  const installed = spawnSync(process.execPath, [BIN, "install", "--config-dir", join(base, "claude")], {
    env: cleanEnv({ HOME: home, PATH, XDG_DATA_HOME: "" }),
    encoding: "utf8",
  });
  assert.equal(installed.status, 0, installed.stderr);
  // The plugin's launcher, beside a copy of the program where the plugin keeps it.
  const plugin = join(base, "plugin");
  mkdirSync(join(plugin, "bin"), { recursive: true });
  mkdirSync(join(plugin, "lib"));
  copyFileSync(join(REPO, "plugin/bin/session-bridge"), join(plugin, "bin/session-bridge"));
  copyFileSync(BIN, join(plugin, "lib/session-bridge.cjs"));
  const launchers = [join(home, ".local/share/session-bridge/bin/session-bridge"), join(plugin, "bin/session-bridge")];

  const envFile = join(base, "env.sh");
  writeFileSync(envFile, "");
  const cases: Case[] = [];
  for (const hook of ["recv", "guard", "send", "wait"]) {
    const input = hook === "guard" ? push : prompt;
    for (const env of [{}, { BRIDGE_ROOT: root }, { CLAUDE_ENV_FILE: "" }] as Record<string, string>[])
      cases.push({ args: ["hook", hook], env, input, node: false });
    // Any other BRIDGE_* name goes to node, even one that names no identity, and an empty one (the
    // program counts it as unset, the launcher does not try to), and one inside another's value.
    for (const env of [
      { BRIDGE_ROOT: root, BRIDGE_SEND_TO: "api" },
      { BRIDGE_PORJECT: "shop" },
      { BRIDGE_PROJECT: "" },
      { NOTE: "see BRIDGE_ROLE" },
    ] as Record<string, string>[])
      cases.push({ args: ["hook", hook], env, input, node: true });
  }
  cases.push(
    { args: ["hook", "guard"], env: { BRIDGE_BLOCK_GIT_ALL: "1" }, input: push, node: true },
    { args: ["hook", "guard"], env: { BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" }, input: push, node: true },
    { args: ["hook", "recv"], env: { BRIDGE_PROJECT: "shop" }, input: prompt, node: true },
    { args: ["hook", "recv"], env: { CLAUDE_ENV_FILE: envFile }, input: start, node: true },
    { args: ["hook", "recv", "--agent", "codex"], env: {}, input: prompt, node: true },
    { args: ["hook", "recieve"], env: {}, input: prompt, node: true },
    { args: ["--version"], env: {}, input: "", node: true },
  );

  for (const c of cases) {
    const what = `${c.args.join(" ")} with ${JSON.stringify(c.env)}`;
    const env = cleanEnv({ PATH, HOME: home, ...c.env });
    const direct = spawnSync(process.execPath, [BIN, ...c.args], { env, input: c.input, encoding: "utf8" });
    for (const launcher of launchers) {
      rmSync(log, { force: true });
      const r = spawnSync(launcher, c.args, { env, input: c.input, encoding: "utf8" });
      const starts = readFileSync(log, { encoding: "utf8", flag: "a+" }).split("\n").filter(Boolean);
      assert.equal(starts.length, c.node ? 1 : 0, `${launcher}: ${what}: node started ${starts.length} times`);
      // A hook's node gets one V8 worker thread (src/install/home.ts launcherScript); other commands Node's default.
      const first = c.args[0] === "hook" ? "--v8-pool-size=1" : launcher.replace(/session-bridge$/, "");
      for (const line of starts) assert.ok(line.startsWith(`start ${first}`), `${launcher}: ${what}: node started as "${line}"`);
      assert.deepEqual([r.status, r.stdout, r.stderr], [direct.status, direct.stdout, direct.stderr], `${launcher}: ${what}`);
    }
  }
});

test("a bridged hook with its caches runs through install's launcher without Node reading the program, and without them as before", (t) => {
  const root = makeRoot(t);
  mkdirSync(root, { mode: 0o700 }); // code caches are kept only under a root that exists
  const base = dirname(root);
  const home = join(base, "home");
  mkdirSync(home);
  const PATH = `${dirname(process.execPath)}:/usr/bin:/bin`;
  const installed = spawnSync(process.execPath, [BIN, "install", "--config-dir", join(base, "claude")], {
    env: cleanEnv({ HOME: home, PATH, XDG_DATA_HOME: "" }),
    encoding: "utf8",
  });
  assert.equal(installed.status, 0, installed.stderr);
  const bin = join(home, ".local/share/session-bridge/bin");
  const launcher = join(bin, "session-bridge");
  const copy = join(bin, "session-bridge.cjs");
  const env = cleanEnv({ PATH, HOME: home, BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" });
  const guard = (): string => {
    const r = spawnSync(launcher, ["hook", "guard"], { env, input: push, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /"permissionDecision":"deny"/, r.stderr);
    return r.stdout;
  };
  // No caches yet: the program runs as it always did, and keeps its entry's and the guard's code.
  const first = guard();
  const caches = readdirSync(join(root, "cache")).sort();
  assert.equal(caches.filter((f) => f.startsWith("bundle-entry-")).length, 1, caches.join(", "));
  assert.equal(caches.filter((f) => f.startsWith("bundle-hook-guard-")).length, 1, caches.join(", "));
  assert.equal(guard(), first);
  // The index the fast start read is handed to the entry, which does not open the copy again: a
  // preload (NODE_OPTIONS, which the launcher's node inherits) counts the opens of the copy.
  const probe = join(base, "count-opens.cjs");
  const opens = join(base, "opens.json");
  writeFileSync(
    probe,
    `const fs = require("node:fs"); const open = fs.openSync; let n = 0;
fs.openSync = function (path, ...rest) { if (path === ${JSON.stringify(copy)}) n++; return open.call(this, path, ...rest); };
process.on("exit", () => fs.writeFileSync(${JSON.stringify(opens)}, String(n)));\n`,
  );
  const counted = spawnSync(launcher, ["hook", "guard"], {
    env: { ...env, NODE_OPTIONS: `--require=${probe}` },
    input: push,
    encoding: "utf8",
  });
  assert.equal(counted.stdout, first, counted.stderr);
  assert.equal(readFileSync(opens, "utf8"), "1", "the copy is opened once, by the fast start");
  // The program's code made unparseable, its index (the last line) left whole: run directly it
  // fails; through the launcher the hook still answers, so Node did not compile the file.
  const text = readFileSync(copy, "latin1");
  const broken = text.replace('"use strict";\n', '"use strict";\n)(\n');
  assert.notEqual(broken, text);
  writeFileSync(copy, broken, "latin1");
  const direct = spawnSync(process.execPath, [copy, "hook", "guard"], { env, input: push, encoding: "utf8" });
  assert.match(direct.stderr, /SyntaxError/);
  assert.equal(guard(), first);
  // Without the entry's cache the launcher runs the file again, and its entry writes the cache.
  writeFileSync(copy, text, "latin1");
  for (const f of caches) if (f.startsWith("bundle-entry-")) rmSync(join(root, "cache", f));
  assert.equal(guard(), first);
  assert.equal(
    readdirSync(join(root, "cache")).filter((f) => f.startsWith("bundle-entry-")).length,
    1,
    "the entry's cache is written again",
  );
});
