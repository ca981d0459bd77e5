// The launchers (install's and the plugin's, src/install/home.ts) answer a hook outside a bridged
// session in sh, without starting node; every other run reaches node. Either way the answer must
// be the one the program gives run directly (its prelude and src/hooks.ts).
import { test } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BIN, REPO } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";
import { Script } from "node:vm";
import { COMMONJS_WRAPPER, wrapIn, writeCodeCache } from "../../src/runtime/code-cache.ts";
import { launcherText } from "../../src/install/home.ts";

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

/** `session-bridge install` into <base>/home (Claude Code's config in <base>/claude), node found on PATH; the home. */
function installIn(base: string, PATH: string): string {
  const home = join(base, "home");
  mkdirSync(home);
  const installed = spawnSync(process.execPath, [BIN, "install", "--config-dir", join(base, "claude")], {
    env: cleanEnv({ HOME: home, PATH, XDG_DATA_HOME: "" }),
    encoding: "utf8",
  });
  assert.equal(installed.status, 0, installed.stderr);
  return home;
}

/** An install, a bridge root that exists (code caches are kept only under one), and a bridged session's environment. */
function bridgedInstall(t: TestContext): { root: string; base: string; bin: string; env: NodeJS.ProcessEnv } {
  const root = makeRoot(t);
  mkdirSync(root, { mode: 0o700 });
  const base = dirname(root);
  const PATH = `${dirname(process.execPath)}:/usr/bin:/bin`;
  const home = installIn(base, PATH);
  const env = cleanEnv({ PATH, HOME: home, BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" });
  return { root, base, bin: join(home, ".local/share/session-bridge/bin"), env };
}

/**
 * The plugin's launcher as a marketplace holds it: the committed plugin/bin/session-bridge beside
 * the build's program and its fast start (plugin/lib, build.mjs). Its launcher and its program.
 */
function pluginIn(base: string): { launcher: string; copy: string } {
  const plugin = join(base, "plugin");
  mkdirSync(join(plugin, "bin"), { recursive: true });
  mkdirSync(join(plugin, "lib"));
  copyFileSync(join(REPO, "plugin/bin/session-bridge"), join(plugin, "bin/session-bridge"));
  copyFileSync(BIN, join(plugin, "lib/session-bridge.cjs"));
  copyFileSync(join(REPO, "plugin/lib/fast-start.sh"), join(plugin, "lib/fast-start.sh"));
  return { launcher: join(plugin, "bin/session-bridge"), copy: join(plugin, "lib/session-bridge.cjs") };
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
  const home = installIn(base, PATH);
  // The plugin's launcher, beside a copy of the program where the plugin keeps it.
  const launchers = [join(home, ".local/share/session-bridge/bin/session-bridge"), pluginIn(base).launcher];

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

/**
 * `install --in-place` run from a program where a build leaves it, beside the fast start the build
 * writes (dist/fast-start.sh): the launcher it writes in place of install's, and that program.
 */
function inPlaceIn(base: string, env: NodeJS.ProcessEnv): { launcher: string; copy: string } {
  const clone = join(base, "clone", "dist");
  mkdirSync(clone, { recursive: true });
  const copy = join(clone, "session-bridge.cjs");
  copyFileSync(BIN, copy);
  copyFileSync(join(dirname(BIN), "fast-start.sh"), join(clone, "fast-start.sh"));
  const installed = spawnSync(process.execPath, [copy, "install", "--in-place", "--config-dir", join(base, "claude")], {
    env: { ...env, XDG_DATA_HOME: "" },
    encoding: "utf8",
  });
  assert.equal(installed.status, 0, installed.stderr);
  return { launcher: join(env.HOME!, ".local/share/session-bridge/bin/session-bridge"), copy };
}

for (const which of ["install's launcher", "the plugin's launcher", "install --in-place's launcher"])
  test(`a bridged hook with its caches runs through ${which} without Node reading the program, and without them as before`, (t) => {
    const { root, base, bin, env } = bridgedInstall(t);
    const { launcher, copy } =
      which === "install's launcher"
        ? { launcher: join(bin, "session-bridge"), copy: join(bin, "session-bridge.cjs") }
        : which === "the plugin's launcher"
          ? pluginIn(base)
          : inPlaceIn(base, env);
    fastStartRuns(root, base, launcher, copy, env);
  });

function fastStartRuns(root: string, base: string, launcher: string, copy: string, env: NodeJS.ProcessEnv): void {
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
  // A bridged hook with its cache opens the copy once, for the index: a preload (NODE_OPTIONS,
  // which the launcher's node inherits for every hook but the guard) counts the opens by recv,
  // which the fast start runs as it runs the guard, once recv's cache is written.
  const probe = join(base, "count-opens.cjs");
  const opens = join(base, "opens.json");
  writeFileSync(
    probe,
    `const fs = require("node:fs"); const open = fs.openSync; let n = 0;
fs.openSync = function (path, ...rest) { if (require("node:path").resolve(String(path)) === ${JSON.stringify(copy)}) n++; return open.call(this, path, ...rest); };
process.on("exit", () => fs.writeFileSync(${JSON.stringify(opens)}, String(n)));\n`,
  );
  const recv = (options?: string) =>
    spawnSync(launcher, ["hook", "recv"], { env: { ...env, ...(options && { NODE_OPTIONS: options }) }, input: prompt, encoding: "utf8" });
  const plain = recv();
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(recv(`--require=${probe}`).stdout, plain.stdout);
  assert.equal(readFileSync(opens, "utf8"), "1", "the copy is opened once, by the fast start");
  // NODE_OPTIONS asking for ES modules would make the fast start's `-e` code one (no `require`):
  // the launcher's own option wins.
  for (const options of ["--input-type=module", "--experimental-default-type=module"]) {
    const r = recv(options);
    assert.deepEqual([r.status, r.stdout, r.stderr], [0, plain.stdout, ""], `recv, NODE_OPTIONS=${options}`);
  }
  // The guard runs without NODE_OPTIONS, so none stops it from denying: not one that stops node
  // before any code runs (an option node refuses there; a preload that throws), nor those above.
  const throws = join(base, "throws.cjs");
  writeFileSync(throws, 'throw new Error("a broken preload");\n');
  for (const options of ["--cpu-prof", "--no-such-option", `--require=${throws}`, "--input-type=module", "--max-old-space-size=100"]) {
    const r = spawnSync(launcher, ["hook", "guard"], { env: { ...env, NODE_OPTIONS: options }, input: push, encoding: "utf8" });
    assert.deepEqual([r.status, r.stdout], [0, first], `guard, NODE_OPTIONS=${options}: ${r.stderr}`);
  }
  // The program's code made unparseable, its index (the last line) left whole: run directly it
  // fails; through the launcher the hook still answers, so Node did not compile the file.
  const text = readFileSync(copy, "latin1");
  const broken = text.replace('"use strict";\n', '"use strict";\n)(\n');
  assert.notEqual(broken, text);
  writeFileSync(copy, broken, "latin1");
  const direct = spawnSync(process.execPath, [copy, "hook", "guard"], { env, input: push, encoding: "utf8" });
  assert.match(direct.stderr, /SyntaxError/);
  assert.equal(guard(), first);
  // Without the guard's cache the launcher runs the file again, which writes it (and the entry's).
  writeFileSync(copy, text, "latin1");
  for (const f of readdirSync(join(root, "cache"))) rmSync(join(root, "cache", f));
  assert.equal(guard(), first);
  assert.deepEqual(readdirSync(join(root, "cache")).sort(), caches, "both caches are written again");
}

test("a bridged guard, and recv when it needs no other bundle, run from their own cache without the entry", (t) => {
  const { root, base, bin, env } = bridgedInstall(t);
  const launcher = join(bin, "session-bridge");
  const cacheDir = join(root, "cache");
  const run = (args: string[], input: string, extra: Record<string, string> = {}) => {
    const r = spawnSync(launcher, args, { env: { ...env, ...extra }, input, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r;
  };
  const send = (body: string): string => {
    const r = spawnSync(process.execPath, [BIN, "send", "web", body, "--queue", "--json"], {
      env: { ...env, BRIDGE_ROLE: "api" },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).id as string;
  };
  const named = (prefix: string) => readdirSync(cacheDir).filter((f) => f.startsWith(prefix));
  const dropEntryCache = () => {
    for (const f of named("bundle-entry-")) rmSync(join(cacheDir, f));
  };

  // First runs, without caches: the file runs, and writes the entry's cache and each hook's.
  const denied = run(["hook", "guard"], push).stdout;
  assert.match(denied, /"permissionDecision":"deny"/);
  const firstId = send("first");
  assert.match(run(["hook", "recv"], prompt).stdout, new RegExp(firstId));
  assert.equal(named("bundle-hook-guard-").length, 1);
  assert.equal(named("bundle-hook-recv-").length, 1);

  // The entry's cache removed: the guard and recv answer as before and the entry never runs, so
  // nothing writes its cache again.
  dropEntryCache();
  assert.equal(run(["hook", "guard"], push).stdout, denied);
  assert.equal(run(["hook", "guard"], JSON.stringify({ ...JSON.parse(push), tool_input: { command: "git status" } })).stdout, "");
  const secondId = send("second");
  const took = run(["hook", "recv"], prompt);
  assert.match(took.stdout, new RegExp(secondId));
  assert.doesNotMatch(took.stdout, new RegExp(firstId), "each message once");
  assert.equal(run(["hook", "recv"], prompt).stdout, "", "nothing left to take");
  // A bad --agent is answered by the bundle's run as by the dispatcher: a deny every CLI honours.
  const badAgent = spawnSync(launcher, ["hook", "guard", "--agent", "cursor"], { env, input: push, encoding: "utf8" });
  assert.equal(badAgent.status, 2);
  assert.match(badAgent.stderr, /--agent must be one of claude, codex, gemini \(got "cursor"\)/);
  assert.deepEqual(named("bundle-entry-"), [], "the entry did not run");

  // recv at Claude Code's SessionStart (CLAUDE_ENV_FILE) also loads the git shim's bundle: the
  // entry runs, and writes its cache.
  const envFile = join(base, "env.sh");
  writeFileSync(envFile, "");
  run(["hook", "recv"], start, { CLAUDE_ENV_FILE: envFile });
  assert.match(readFileSync(envFile, "utf8"), /PATH=/, "the git shim is put on the session's PATH");
  assert.equal(named("bundle-entry-").length, 1, "the entry ran");

  // A cache V8 refuses (made under other V8 flags) is dropped by the run that met it, which still
  // answers; the next run takes the entry's way and writes one made under its flags. recv's node
  // keeps NODE_OPTIONS, so it meets one made without them; the guard's runs without NODE_OPTIONS
  // (the launcher drops them), so it meets one the program made, run directly under other flags.
  const [recvCache] = named("bundle-hook-recv-");
  const [guardCache] = named("bundle-hook-guard-");
  dropEntryCache();
  assert.equal(run(["hook", "recv"], prompt, { NODE_OPTIONS: "--max-old-space-size=100" }).stdout, "");
  assert.deepEqual(named("bundle-hook-recv-"), [], "the refused cache is gone");
  assert.equal(run(["hook", "recv"], prompt).stdout, "");
  assert.deepEqual(named("bundle-hook-recv-"), [recvCache], "written again");
  assert.equal(named("bundle-entry-").length, 1, "by the entry");
  dropEntryCache();
  rmSync(join(cacheDir, guardCache!));
  const otherFlags = spawnSync(process.execPath, ["--max-old-space-size=100", join(bin, "session-bridge.cjs"), "hook", "guard"], {
    env,
    input: push,
    encoding: "utf8",
  });
  assert.equal(otherFlags.stdout, denied, otherFlags.stderr);
  assert.deepEqual(named("bundle-hook-guard-"), [guardCache], "made under other flags");
  dropEntryCache();
  assert.equal(run(["hook", "guard"], push).stdout, denied);
  assert.deepEqual(named("bundle-hook-guard-"), [], "the refused cache is gone");
  assert.equal(run(["hook", "guard"], push).stdout, denied);
  assert.deepEqual(named("bundle-hook-guard-"), [guardCache], "written again");
  assert.equal(named("bundle-entry-").length, 1, "by the entry");

  // A damaged cache (its two copies differ) is never run: the entry's way rewrites it.
  dropEntryCache();
  const file = join(cacheDir, guardCache!);
  const bytes = readFileSync(file);
  bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
  writeFileSync(file, bytes);
  assert.equal(run(["hook", "guard"], push).stdout, denied);
  assert.notDeepEqual(readFileSync(file), bytes, "rewritten");
  assert.equal(named("bundle-entry-").length, 1, "by the entry");

  // The fast start trusts a cache only where the entry would: in a root this user alone may write
  // to. One planted (sound, for the guard's hash, allowing everything) runs in such a root...
  dropEntryCache();
  const hash = /^bundle-hook-guard-([0-9a-f]{16})-/.exec(guardCache!)![1]!;
  const planted = wrapIn(COMMONJS_WRAPPER, `exports.run = () => ({ code: 0, stdout: "planted\\n" });`);
  writeCodeCache("hook-guard", hash, file, new Script(planted, { filename: "session-bridge/hook-guard.js" }), planted);
  assert.equal(run(["hook", "guard"], push).stdout, "planted\n");
  // ...and not in one the group may write to: the guard decides.
  chmodSync(root, 0o770);
  try {
    assert.equal(run(["hook", "guard"], push).stdout, denied);
  } finally {
    chmodSync(root, 0o700);
  }
});

test("the launchers find node on PATH as `command -v` does: the first regular, executable file named node", (t) => {
  const root = makeRoot(t);
  const base = dirname(root);
  const dir = (name: string): string => {
    const d = join(base, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  // Passed over, in this order: a folder without node, a node that is not executable, a folder
  // named node, and an entry with a glob character (the launcher must not expand it).
  const empty = dir("empty");
  writeFileSync(join(dir("not-executable"), "node"), "#!/bin/sh\nexit 97\n", { mode: 0o644 });
  dir("node-is-a-folder/node");
  const glob = dir("glob*");
  const found = dir("found");
  const log = join(base, "started.log");
  writeFileSync(join(found, "node"), `#!/bin/sh\necho "$0" >> '${log}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
  const PATH = [empty, join(base, "not-executable"), join(base, "node-is-a-folder"), glob, found, "/usr/bin", "/bin"].join(":");
  const env = cleanEnv({ PATH, HOME: base });
  const viaCommand = spawnSync("sh", ["-c", "command -v node"], { env, encoding: "utf8" });
  assert.equal(viaCommand.stdout.trim(), join(found, "node"), "the shell's own answer, for comparison");

  // install's launcher written for the node on PATH alone (no node chosen), and the plugin's.
  const bin = dir("bin");
  const launcher = join(bin, "session-bridge");
  writeFileSync(launcher, launcherText(undefined, BIN), { mode: 0o755 });
  for (const l of [launcher, pluginIn(base).launcher]) {
    rmSync(log, { force: true });
    const r = spawnSync(l, ["--version"], { env, encoding: "utf8" });
    assert.equal(r.status, 0, `${l}: ${r.stderr}`);
    assert.equal(readFileSync(log, "utf8").trim(), join(found, "node"), l);
  }
});
