// Which .claude.json install, uninstall, doctor and `claude mcp` use: it depends on whether
// CLAUDE_CONFIG_DIR is set for Claude Code, not on the folder's path (docs/claude-code.md
// "Configuration files"), also when that folder is ~/.claude itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { BIN, REPO } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";

const CLAUDE_BIN_DIR = join(REPO, "node_modules/.bin");
const PATH = `${CLAUDE_BIN_DIR}:/usr/local/bin:/usr/bin:/bin`;

function setup(t: TestContext) {
  const root = makeRoot(t);
  const home = join(dirname(root), "home");
  mkdirSync(home);
  return { root, home, dotClaude: join(home, ".claude") };
}

function env(s: { root: string; home: string }, configDirVar?: string) {
  return cleanEnv({ HOME: s.home, BRIDGE_ROOT: s.root, PATH, ...(configDirVar !== undefined && { CLAUDE_CONFIG_DIR: configDirVar }) });
}

function bridgeRun(s: { root: string; home: string }, args: string[], configDirVar?: string) {
  return spawnSync(process.execPath, [BIN, ...args], { env: env(s, configDirVar), encoding: "utf8", timeout: 60_000 });
}

function mcpList(s: { root: string; home: string }, configDirVar?: string): string {
  const r = spawnSync(join(CLAUDE_BIN_DIR, "claude"), ["mcp", "list"], { env: env(s, configDirVar), encoding: "utf8", timeout: 60_000 });
  return r.stdout + r.stderr;
}

const servers = (path: string) => (existsSync(path) ? Object.keys(JSON.parse(readFileSync(path, "utf8")).mcpServers ?? {}) : []);

function doctorCheck(s: { root: string; home: string }, configDirVar: string | undefined, name: string) {
  const r = bridgeRun(s, ["doctor", "--config-dir", join(s.home, ".claude"), "--json"], configDirVar);
  const report = JSON.parse(r.stdout) as { checks: Array<{ name: string; level: string; detail: string; fix?: string }> };
  return { status: r.status, check: report.checks.find((c) => c.name === name), all: report.checks };
}

for (const exported of ["~/.claude", "~/.claude/"]) {
  test(`CLAUDE_CONFIG_DIR=${exported} and --config-dir ~/.claude: the entry goes to ~/.claude/.claude.json, which claude mcp list reads`, (t) => {
    const s = setup(t);
    const value = exported.replace("~", s.home);
    const r = bridgeRun(s, ["install", "--config-dir", s.dotClaude], value);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /MCP servers in .*\/\.claude\/\.claude\.json \(CLAUDE_CONFIG_DIR is set/);
    assert.deepEqual(servers(join(s.dotClaude, ".claude.json")), ["session-bridge"]);
    assert.deepEqual(servers(join(s.home, ".claude.json")), [], "never the file beside the folder");
    assert.match(mcpList(s, value), /session-bridge: .* mcp - ✔ Connected/);
    const doctor = doctorCheck(s, value, "MCP server");
    assert.equal(doctor.check?.level, "ok", JSON.stringify(doctor.all));
    assert.equal(bridgeRun(s, ["uninstall", "--config-dir", s.dotClaude], value).status, 0);
    assert.deepEqual(servers(join(s.dotClaude, ".claude.json")), []);
  });
}

test("--config-dir ~/.claude without the variable: the entry goes to ~/.claude.json, which the user's plain claude reads", (t) => {
  const s = setup(t);
  const r = bridgeRun(s, ["install", "--config-dir", s.dotClaude]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /MCP servers in .*\/home\/\.claude\.json \(CLAUDE_CONFIG_DIR is not set/);
  assert.deepEqual(servers(join(s.home, ".claude.json")), ["session-bridge"]);
  assert.deepEqual(servers(join(s.dotClaude, ".claude.json")), []);
  assert.match(mcpList(s), /session-bridge: .* mcp - ✔ Connected/);
});

test("doctor fails when the only entry is in the .claude.json these sessions do not read, and warns about a second copy", (t) => {
  const s = setup(t);
  const value = s.dotClaude;
  assert.equal(bridgeRun(s, ["install", "--config-dir", s.dotClaude]).status, 0); // into ~/.claude.json
  assert.match(mcpList(s, value), /No MCP servers configured/, "the bug this guards against, as Claude Code shows it");
  const mismatch = doctorCheck(s, value, "unread MCP entry");
  assert.equal(mismatch.status, 1);
  assert.equal(mismatch.check?.level, "fail");
  assert.match(
    mismatch.check!.detail,
    /registered in .*\/home\/\.claude\.json, not in .*\/\.claude\/\.claude\.json: .*only with CLAUDE_CONFIG_DIR unset/,
  );
  assert.match(
    mismatch.check!.fix!,
    /session-bridge install --config-dir .*\/\.claude, then delete mcpServers\.session-bridge from .*\/home\/\.claude\.json/,
  );
  assert.equal(bridgeRun(s, ["install", "--config-dir", s.dotClaude], value).status, 0); // now into ~/.claude/.claude.json too
  const both = doctorCheck(s, value, "unread MCP entry");
  assert.equal(both.check?.level, "warn");
  assert.equal(doctorCheck(s, value, "MCP server").check?.level, "ok");
  const unset = doctorCheck(s, undefined, "unread MCP entry");
  assert.equal(unset.check?.level, "warn", "seen from the other side too");
  assert.match(unset.check!.detail, /only with CLAUDE_CONFIG_DIR=.*\/\.claude set/);
});
