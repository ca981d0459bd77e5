// doctor: healthy wiring exits 0; each broken case exits 1 (or warns) naming the fix.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { BIN } from "../helpers/bin.ts";
import { bridge, cleanEnv, makeRoot } from "../helpers/cli.ts";

interface Box {
  home: string;
  config: string;
  root: string;
}

function box(t: TestContext): Box {
  const root = makeRoot(t);
  const home = join(dirname(root), "home");
  mkdirSync(home);
  return { home, config: join(dirname(root), "claude-config"), root };
}

function run(b: Box, args: string[], bin = BIN, extra: Record<string, string | undefined> = {}) {
  const env = cleanEnv({ HOME: b.home, BRIDGE_ROOT: b.root, PATH: "/usr/local/bin:/usr/bin:/bin", XDG_DATA_HOME: "", ...extra });
  return spawnSync(process.execPath, [bin, ...args], { env, encoding: "utf8", timeout: 60_000 });
}

function doctor(b: Box, extra: Record<string, string | undefined> = {}) {
  const r = run(b, ["doctor", "--config-dir", b.config, "--json"], BIN, extra);
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: Array<{ name: string; level: string; detail: string; fix?: string }> };
  const check = (name: string) => report.checks.find((c) => c.name === name);
  return { status: r.status, report, check };
}

function healthy(t: TestContext): Box {
  const b = box(t);
  assert.equal(run(b, ["install", "--config-dir", b.config]).status, 0);
  assert.equal(bridge(["recv"], { root: b.root, project: "shop", role: "web" }).status, 0);
  return b;
}

test("a healthy install: exit 0, every check ok or informational", (t) => {
  const b = healthy(t);
  const d = doctor(b);
  assert.equal(d.status, 0, JSON.stringify(d.report, null, 2));
  assert.equal(d.report.ok, true);
  for (const name of [
    "this binary",
    "MCP server",
    "launch",
    "hook recv (UserPromptSubmit)",
    "hook recv (SessionStart)",
    "hook guard (PreToolUse)",
    "tool permissions",
    "node",
    "bus folder",
    "inboxes",
    "settings",
  ]) {
    assert.equal(d.check(name)?.level, "ok", name);
  }
  assert.equal(d.check("hook wait (Stop)")?.level, "info");
  assert.match(d.check("config folder")!.detail, /from --config-dir/);
  assert.match(d.check("spawner")!.detail, /daemon not running; automation is off/);
  const human = run(b, ["doctor", "--config-dir", b.config]);
  assert.match(
    human.stdout,
    /^info {2}config folder: Claude Code config folder: .* \(from --config-dir\); MCP servers in .*\/\.claude\.json \(.*\)$/m,
  );
  assert.match(human.stdout, /all good\n$/);
});

test("this shell: half an identity fails with the fix, a typo beside a full identity warns, none is informational", (t) => {
  const b = healthy(t);
  const half = doctor(b, { BRIDGE_PROJECT: "shop" });
  assert.equal(half.status, 1);
  assert.equal(half.check("this shell")?.level, "fail");
  assert.match(
    half.check("this shell")!.detail,
    /^BRIDGE_ROOT=.* BRIDGE_PROJECT=shop: a Claude Code session started from here is not connected: BRIDGE_ROLE is not set$/,
  );
  assert.match(
    half.check("this shell")!.fix!,
    /^restart Claude Code with both set to names, e\.g\. `BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude`/,
  );
  const typo = doctor(b, { BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web", BRIDGE_AUTOSND: "1" });
  assert.equal(typo.check("this shell")?.level, "warn");
  assert.match(
    typo.check("this shell")!.detail,
    /"BRIDGE_AUTOSND" is not a variable session-bridge reads \(did you mean BRIDGE_AUTOSEND\?\)/,
  );
  assert.match(doctor(b).check("this shell")!.detail, /^no BRIDGE_PROJECT\/BRIDGE_ROLE set \(not a bridged shell\)/);
});

test("nothing installed: exit 1 and the fix is the install command for that folder", (t) => {
  const b = box(t);
  const d = doctor(b);
  assert.equal(d.status, 1);
  assert.equal(d.check("MCP server")?.level, "fail");
  assert.equal(d.check("MCP server")?.fix, `session-bridge install --config-dir ${b.config}`);
  assert.equal(d.check("hook recv (UserPromptSubmit)")?.level, "fail");
  assert.equal(d.check("hook guard (PreToolUse)")?.level, "warn");
  assert.match(d.check("bus folder")!.detail, /does not exist yet/);
});

test("a moved or deleted binary installed --in-place: doctor names it, and a bridged session's guard blocks Bash", (t) => {
  const b = box(t);
  const file = join(b.home, "session-bridge.cjs");
  copyFileSync(BIN, file);
  assert.equal(run(b, ["install", "--config-dir", b.config, "--in-place"], file).status, 0);
  rmSync(file);
  const d = doctor(b);
  assert.equal(d.status, 1);
  const launcher = join(b.home, ".local/share/session-bridge/bin/session-bridge");
  assert.equal(d.check("launch")?.level, "fail");
  assert.equal(d.check("launch")!.detail, `${launcher} runs ${file}, which is missing (deleted?)`);
  assert.equal(d.check("launch")!.fix, `session-bridge install --config-dir ${b.config}`);
  // Fails closed, where `node <the missing file>` exited 1, which Claude Code lets Bash past.
  const guard = spawnSync(launcher, ["hook", "guard"], {
    env: cleanEnv({ HOME: b.home, PATH: "/usr/local/bin:/usr/bin:/bin", BRIDGE_ROOT: b.root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" }),
    input: JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "ls" } }),
    encoding: "utf8",
  });
  assert.equal(guard.status, 2);
  assert.match(guard.stderr, new RegExp(`session-bridge cannot run \\(${file} is missing\\)`));
});

test("an unreadable Claude Code file is a failure naming the file and the parse error", (t) => {
  const b = healthy(t);
  writeFileSync(join(b.config, ".claude.json"), "{oops");
  const d = doctor(b);
  assert.equal(d.status, 1);
  assert.match(d.check("Claude Code files")!.detail, /\.claude\.json is not valid JSON/);
});

test("an mcpServers entry in settings.json (ignored by Claude Code) is warned about", (t) => {
  const b = healthy(t);
  const settingsPath = join(b.config, "settings.json");
  const settings = JSON.parse(spawnSync("cat", [settingsPath], { encoding: "utf8" }).stdout);
  writeFileSync(settingsPath, JSON.stringify({ ...settings, mcpServers: { "session-bridge": { command: "x" } } }));
  const d = doctor(b);
  assert.equal(d.status, 0);
  assert.equal(d.check("stray MCP entry")?.level, "warn");
  assert.match(d.check("stray MCP entry")!.detail, /which Claude Code ignores/);
});

test("bus problems: loose permissions fail with the chmod fix; unreadable lines and a bad config are reported", (t) => {
  const b = healthy(t);
  chmodSync(join(b.root, "projects/shop/web"), 0o755);
  let d = doctor(b);
  assert.equal(d.status, 1);
  assert.match(d.check("bus folder")!.detail, /projects\/shop\/web/);
  assert.equal(d.check("bus folder")!.fix, `chmod -R go-rwx ${b.root}`);
  chmodSync(join(b.root, "projects/shop/web"), 0o700);

  appendFileSync(join(b.root, "projects/shop/web/inbox.jsonl"), 'garbage\n{"torn":\n');
  d = doctor(b);
  assert.equal(d.check("inboxes")?.level, "warn");
  assert.match(d.check("inboxes")!.detail, /2 unreadable line\(s\) skipped .* shop\/web: 2/);

  writeFileSync(join(b.root, "bridge-settings.json"), '{"maxHops": "six"}');
  d = doctor(b);
  assert.equal(d.status, 1);
  assert.match(d.check("settings")!.detail, /"maxHops" must be an integer/);
});

test("automation on without a running daemon is a warning with the command to start it", (t) => {
  const b = healthy(t);
  assert.equal(run(b, ["spawner", "on"]).status, 0);
  const d = doctor(b);
  assert.equal(d.check("spawner")?.level, "warn");
  assert.equal(d.check("spawner")?.fix, "session-bridge spawner run");
});
