// `install|uninstall --agent codex|gemini`: the files each CLI reads (docs/other-agents.md), with the
// Claude Code install's guarantees: unrelated content kept byte for byte, a second run changes
// nothing, --dry-run changes nothing, an unparsable file stops everything, uninstall is exact.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "../helpers/bin.ts";

function dir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), "sb-vendor-install-"));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: env.HOME, ...env }, encoding: "utf8" });
  return { code: r.status, out: r.stdout + r.stderr };
}

const CONFIG = `# my codex config
model = "gpt-5.5"   # keep this comment

[mcp_servers.other]
command = "other-server"
args = ["--x"]

[projects."/home/me/app"]
trust_level = "trusted"
`;
const FOREIGN_HOOKS = `{
    "hooks": {
        "Stop": [ { "hooks": [ { "type": "command", "command": "notify-send done" } ] } ]
    }
}
`;

test("install --agent codex: hooks.json and config.toml; idempotent; dry run; uninstall restores both byte for byte", (t) => {
  const home = dir(t);
  const env = { HOME: home, CODEX_HOME: join(home, "codex") };
  mkdirSync(env.CODEX_HOME);
  const configPath = join(env.CODEX_HOME, "config.toml");
  const hooksPath = join(env.CODEX_HOME, "hooks.json");
  writeFileSync(configPath, CONFIG);
  writeFileSync(hooksPath, FOREIGN_HOOKS);

  const dry = cli(env, "install", "--agent", "codex", "--dry-run");
  assert.equal(dry.code, 0, dry.out);
  assert.match(dry.out, /\+ \[mcp_servers\.session-bridge\]/);
  assert.match(dry.out, /dry run: nothing was changed/);
  assert.equal(readFileSync(configPath, "utf8"), CONFIG);

  const first = cli(env, "install", "--agent", "codex");
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /approve|Trust all/);
  const config = readFileSync(configPath, "utf8");
  assert.ok(config.startsWith(CONFIG), "every unrelated line, comment and table kept as it was");
  assert.match(
    config,
    /\n\[mcp_servers\.session-bridge\]\ncommand = ".+"\nargs = \[ .*"mcp" \]\nenv_vars = \[ "BRIDGE_PROJECT", "BRIDGE_ROLE", "BRIDGE_ROOT"/,
  );
  assert.match(config, /required = true\n$/);
  const hooks = JSON.parse(readFileSync(hooksPath, "utf8")).hooks;
  assert.equal(hooks.Stop[0].hooks[0].command, "notify-send done");
  assert.match(hooks.UserPromptSubmit[0].hooks[0].command, /hook recv --agent codex$/);
  assert.match(hooks.SessionStart[0].hooks[0].command, /hook recv --agent codex$/);
  assert.equal(hooks.PreToolUse[0].matcher, "Bash");
  assert.match(hooks.PreToolUse[0].hooks[0].command, /hook guard --agent codex$/);
  assert.equal(hooks.PreToolUse[0].hooks[0].timeout, 15);
  assert.ok(
    readdirSync(env.CODEX_HOME).some((f) => f.startsWith("config.toml.session-bridge-backup-")),
    "a backup of config.toml",
  );

  const before = [readFileSync(configPath, "utf8"), readFileSync(hooksPath, "utf8")];
  const second = cli(env, "install", "--agent", "codex");
  assert.equal(second.code, 0, second.out);
  assert.match(second.out, /already up to date[\s\S]*already up to date/);
  assert.deepEqual([readFileSync(configPath, "utf8"), readFileSync(hooksPath, "utf8")], before, "a second run is byte-identical");

  const off = cli(env, "uninstall", "--agent", "codex");
  assert.equal(off.code, 0, off.out);
  assert.equal(readFileSync(configPath, "utf8"), CONFIG);
  assert.deepEqual(JSON.parse(readFileSync(hooksPath, "utf8")), JSON.parse(FOREIGN_HOOKS));
});

test("install --agent codex refuses a config.toml that does not parse, and changes nothing", (t) => {
  const home = dir(t);
  const env = { HOME: home, CODEX_HOME: join(home, "codex") };
  mkdirSync(env.CODEX_HOME);
  writeFileSync(join(env.CODEX_HOME, "config.toml"), "model = \n[broken");
  const r = cli(env, "install", "--agent", "codex");
  assert.notEqual(r.code, 0);
  assert.match(r.out, /config\.toml is not valid TOML .*nothing was changed/);
  assert.doesNotMatch(r.out, /backup/); // install made none, so none is offered
  assert.equal(readFileSync(join(env.CODEX_HOME, "config.toml"), "utf8"), "model = \n[broken");
  assert.equal(existsSync(join(env.CODEX_HOME, "hooks.json")), false);
});

test("install --agent gemini: hooks (ms timeouts, Gemini's events) and mcpServers in settings.json; idempotent; uninstall exact", (t) => {
  const home = dir(t);
  const env = { HOME: home, GEMINI_CLI_HOME: home };
  mkdirSync(join(home, ".gemini"));
  const path = join(home, ".gemini", "settings.json");
  const original = `{\n  "general": { "enableAutoUpdate": false },\n  "mcpServers": { "other": { "command": "x" } }\n}\n`;
  writeFileSync(path, original);
  const first = cli(env, "install", "--agent", "gemini");
  assert.equal(first.code, 0, first.out);
  const s = JSON.parse(readFileSync(path, "utf8"));
  assert.equal(s.general.enableAutoUpdate, false);
  assert.deepEqual(s.mcpServers.other, { command: "x" });
  assert.deepEqual(s.mcpServers["session-bridge"].args.slice(-1), ["mcp"]);
  assert.match(s.hooks.BeforeAgent[0].hooks[0].command, /hook recv --agent gemini$/);
  assert.equal(s.hooks.BeforeAgent[0].hooks[0].timeout, 15000);
  assert.equal(s.hooks.BeforeTool[0].matcher, "run_shell_command");
  assert.match(s.hooks.BeforeTool[0].hooks[0].command, /hook guard --agent gemini$/);
  assert.equal(s.permissions, undefined, "no Claude Code permissions in Gemini's file");

  const before = readFileSync(path, "utf8");
  assert.equal(cli(env, "install", "--agent", "gemini").code, 0);
  assert.equal(readFileSync(path, "utf8"), before, "a second run is byte-identical");

  assert.equal(cli(env, "uninstall", "--agent", "gemini").code, 0);
  assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), JSON.parse(original));
});

test("install --agent: an unknown agent and --wake rewake outside Claude Code are usage errors", (t) => {
  const home = dir(t);
  const bad = cli({ HOME: home }, "install", "--agent", "cursor");
  assert.notEqual(bad.code, 0);
  assert.match(bad.out, /--agent must be one of claude, codex, gemini \(got "cursor"\)/);
  assert.equal(bad.code, 2);
  // A typo: the value, the names, the one meant, on one line (not the whole usage), for each command that takes --agent.
  for (const [command, typo, meant] of [
    ["install", "cluade", "claude"],
    ["uninstall", "codx", "codex"],
    ["doctor", "gemni", "gemini"],
  ]) {
    const r = cli({ HOME: home }, command!, "--agent", typo!);
    assert.equal(r.code, 2, `${command} --agent ${typo}`);
    assert.match(
      r.out,
      new RegExp(
        `--agent must be one of claude, codex, gemini \\(got "${typo}"; did you mean ${meant}\\?\\); \`session-bridge ${command} --help\``,
      ),
    );
    assert.doesNotMatch(r.out, /usage:/);
  }
  const rewake = cli({ HOME: home, CODEX_HOME: join(home, "c") }, "install", "--agent", "codex", "--wake", "rewake");
  assert.notEqual(rewake.code, 0);
  assert.match(rewake.out, /--wake rewake is Claude Code only/);
});

test("doctor --agent codex: a missing install fails; installed hooks without Codex's approval warn; a recorded approval is ok", (t) => {
  const home = dir(t);
  const env = { HOME: home, CODEX_HOME: join(home, "codex"), BRIDGE_ROOT: join(home, "bus") };
  mkdirSync(env.CODEX_HOME);
  const bare = cli(env, "doctor", "--agent", "codex");
  assert.equal(bare.code, 1);
  assert.match(bare.out, /fail\s+codex MCP server: no \[mcp_servers\.session-bridge\]/);
  assert.match(bare.out, /fix: session-bridge install --agent codex/);
  assert.doesNotMatch(bare.out, /Claude Code/, "--agent codex checks Codex only");

  assert.equal(cli(env, "install", "--agent", "codex").code, 0);
  const untrusted = cli(env, "doctor", "--agent", "codex");
  assert.match(untrusted.out, /ok\s+codex MCP server: .*with env_vars, required/);
  assert.match(untrusted.out, /warn\s+codex hook approval: not approved: UserPromptSubmit recv, SessionStart recv, PreToolUse guard/);

  // What the TUI's "Trust all" writes (pinned in test/e2e/codex-harness.test.ts).
  const hooksPath = join(env.CODEX_HOME, "hooks.json");
  const trust = ["user_prompt_submit", "session_start", "pre_tool_use"]
    .map((e) => `[hooks.state.${JSON.stringify(`${hooksPath}:${e}:0:0`)}]\ntrusted_hash = "sha256:${"0".repeat(64)}"\n`)
    .join("\n");
  writeFileSync(join(env.CODEX_HOME, "config.toml"), `${readFileSync(join(env.CODEX_HOME, "config.toml"), "utf8")}\n${trust}`);
  const trusted = cli(env, "doctor", "--agent", "codex");
  assert.match(trusted.out, /ok\s+codex hook approval: an approval is recorded for each of our 3 hooks/);
});

test("doctor without --agent also reports every other CLI whose folder exists; --agent gemini checks settings.json", (t) => {
  const home = dir(t);
  const env = { HOME: home, GEMINI_CLI_HOME: home, BRIDGE_ROOT: join(home, "bus") };
  mkdirSync(join(home, ".gemini"));
  const all = cli(env, "doctor");
  assert.match(all.out, /gemini MCP server: no mcpServers\.session-bridge/);
  assert.doesNotMatch(all.out, /codex/);
  assert.equal(cli(env, "install", "--agent", "gemini").code, 0);
  const one = cli(env, "doctor", "--agent", "gemini");
  assert.match(one.out, /ok\s+gemini MCP server/);
  assert.match(one.out, /ok\s+gemini hooks: hook recv on BeforeAgent/);
  assert.match(one.out, /ok\s+gemini guard: hook guard on BeforeTool/);
});
