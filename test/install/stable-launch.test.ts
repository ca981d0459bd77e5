// What install registers keeps working after the clone is deleted and after node is upgraded
// (src/install/home.ts); a missing node is a visible failure, never a silently open guard.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { BIN, REPO } from "../helpers/bin.ts";
import { bridge, cleanEnv, makeRoot } from "../helpers/cli.ts";

const CLAUDE_BIN_DIR = join(REPO, "node_modules/.bin");

function setup(t: TestContext) {
  const root = makeRoot(t);
  const base = dirname(root);
  const home = join(base, "home");
  const empty = join(base, "empty"); // a PATH without node (the launcher needs only sh)
  mkdirSync(home);
  mkdirSync(empty);
  return {
    root,
    base,
    home,
    empty,
    config: join(base, "claude-config"),
    launcher: join(home, ".local/share/session-bridge/bin/session-bridge"),
  };
}
type Setup = ReturnType<typeof setup>;

const env = (s: Setup, PATH: string, extra: Record<string, string> = {}) =>
  cleanEnv({ HOME: s.home, BRIDGE_ROOT: s.root, PATH, XDG_DATA_HOME: "", ...extra });

function install(s: Setup, bin: string, PATH: string, node = process.execPath) {
  const r = spawnSync(node, [bin, "install", "--config-dir", s.config], { env: env(s, PATH), encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout;
}

/** Runs a hook command exactly as settings.json holds it, through sh as Claude Code does. */
function hook(s: Setup, name: string, PATH: string, bridged: boolean) {
  const settings = JSON.parse(readFileSync(join(s.config, "settings.json"), "utf8"));
  const event = name === "guard" ? "PreToolUse" : "SessionStart";
  const command = settings.hooks[event][0].hooks[0].command as string;
  const input = JSON.stringify({
    hook_event_name: event,
    tool_name: "Bash",
    tool_input: { command: "git commit -m x" },
    session_id: "s1",
    cwd: s.base,
  });
  const roles: Record<string, string> = bridged ? { BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" } : {};
  return spawnSync("/bin/sh", ["-c", command], { env: env(s, PATH, roles), input, encoding: "utf8", timeout: 60_000 });
}

function doctor(s: Setup, PATH: string) {
  const r = spawnSync(process.execPath, [BIN, "doctor", "--config-dir", s.config, "--json"], {
    env: env(s, PATH),
    encoding: "utf8",
    timeout: 60_000,
  });
  const report = JSON.parse(r.stdout) as { checks: Array<{ name: string; level: string; detail: string; fix?: string }> };
  return { status: r.status, launch: report.checks.find((c) => c.name === "launch") };
}

test("installed from a copy of the build that is then deleted: hooks deliver and claude mcp list connects", (t) => {
  const s = setup(t);
  const clone = join(s.base, "clone");
  mkdirSync(clone);
  copyFileSync(BIN, join(clone, "session-bridge.cjs"));
  const out = install(s, join(clone, "session-bridge.cjs"), "/usr/local/bin:/usr/bin:/bin");
  assert.match(out, /launch: copied .*clone\/session-bridge\.cjs to .*\/\.local\/share\/session-bridge\/bin\/session-bridge\.cjs/);
  assert.match(out, /node: \S+: the first Node 20\+ on PATH outside a versioned folder/);
  rmSync(clone, { recursive: true });
  assert.equal(bridge(["recv"], { root: s.root, project: "shop", role: "web" }).status, 0); // the role exists
  const sent = bridge(["send", "web", "hello after the clone is gone"], { root: s.root, project: "shop", role: "api" });
  assert.equal(sent.status, 0, sent.stderr);
  const recv = hook(s, "recv", "/usr/local/bin:/usr/bin:/bin", true);
  assert.equal(recv.status, 0, recv.stderr);
  assert.match(recv.stdout, /hello after the clone is gone/);
  const guard = hook(s, "guard", "/usr/local/bin:/usr/bin:/bin", true);
  assert.match(guard.stdout, /"permissionDecision":"deny"/);
  const list = spawnSync(join(CLAUDE_BIN_DIR, "claude"), ["mcp", "list"], {
    env: env(s, `${CLAUDE_BIN_DIR}:/usr/local/bin:/usr/bin:/bin`, { CLAUDE_CONFIG_DIR: s.config }),
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.match(list.stdout, new RegExp(`session-bridge: ${s.launcher} mcp - ✔ Connected`), list.stdout + list.stderr);
  assert.match(install(s, BIN, "/usr/local/bin:/usr/bin:/bin"), /launch: copied /, "install again updates the copy in place");
  const fromCopy = install(s, join(dirname(s.launcher), "session-bridge.cjs"), "/usr/local/bin:/usr/bin:/bin");
  assert.match(fromCopy, /launch: \S+session-bridge\.cjs \(already this script\)/);
});

test("the node on PATH replaced: the launcher falls back and doctor warns; no node at all: the guard blocks and recv says so", (t) => {
  const s = setup(t);
  const nodeDir = join(s.base, "nodebin");
  mkdirSync(nodeDir);
  symlinkSync(process.execPath, join(nodeDir, "node"));
  const out = install(s, BIN, `${nodeDir}:/usr/local/bin:/usr/bin:/bin`);
  assert.ok(out.includes(`node: ${nodeDir}/node: the first Node 20+ on PATH`), out);
  assert.equal(doctor(s, `${nodeDir}:/usr/bin:/bin`).launch?.level, "ok");

  rmSync(join(nodeDir, "node")); // an upgrade removed it
  const warned = doctor(s, `/usr/local/bin:/usr/bin:/bin`);
  assert.equal(warned.launch?.level, "warn");
  assert.match(warned.launch!.detail, new RegExp(`${nodeDir}/node is gone .* with the node on PATH \\(here: `));
  assert.match(hook(s, "guard", "/usr/local/bin:/usr/bin:/bin", true).stdout, /"permissionDecision":"deny"/, "still guarding");

  const none = doctor(s, s.empty);
  assert.equal(none.status, 1);
  assert.equal(none.launch?.level, "fail");
  assert.match(none.launch!.detail, /no node on PATH either: .*the git guard blocks Bash/);
  const guard = hook(s, "guard", s.empty, true);
  assert.equal(guard.status, 2, "exit 2 blocks the tool call; 127 would let Bash run");
  assert.match(guard.stderr, new RegExp(`session-bridge cannot run \\(no node: ${nodeDir}/node is gone and none is on PATH\\)`));
  const recv = hook(s, "recv", s.empty, true);
  assert.equal(recv.status, 0);
  assert.match(recv.stdout, /session-bridge cannot run .*session-bridge doctor/, "the session start context says what broke");
  assert.deepEqual(
    [hook(s, "guard", s.empty, false).status, hook(s, "recv", s.empty, false).stdout],
    [0, ""],
    "unbridged sessions are left alone",
  );

  symlinkSync(process.execPath, join(nodeDir, "node")); // the upgrade put one back
  assert.equal(doctor(s, s.empty).launch?.level, "ok");
});

test("the copy deleted: doctor names it; node only inside a versioned folder: the launcher uses PATH at each start", (t) => {
  const s = setup(t);
  const nvm = join(s.base, ".nvm/versions/node/v20.99.0/bin");
  mkdirSync(nvm, { recursive: true });
  try {
    linkSync(process.execPath, join(nvm, "node"));
  } catch {
    copyFileSync(process.execPath, join(nvm, "node")); // another file system: a copy runs the same
  }
  const out = install(s, BIN, nvm, join(nvm, "node"));
  assert.match(
    out,
    /node: .*v20\.99\.0\/bin\/node sits in a versioned folder an upgrade deletes.*the launcher runs the node on PATH at each start/,
  );
  assert.match(readFileSync(s.launcher, "utf8"), /^node=''$/m);
  assert.equal(hook(s, "guard", "/usr/local/bin:/usr/bin:/bin", true).status, 0);
  assert.equal(doctor(s, "/usr/local/bin:/usr/bin:/bin").launch?.level, "ok");
  rmSync(join(dirname(s.launcher), "session-bridge.cjs"));
  const d = doctor(s, "/usr/local/bin:/usr/bin:/bin");
  assert.equal(d.launch?.level, "fail");
  assert.match(d.launch!.detail, /session-bridge\.cjs, which is missing/);
  assert.equal(hook(s, "guard", "/usr/local/bin:/usr/bin:/bin", true).status, 2);
  assert.equal(existsSync(s.launcher), true);
});
