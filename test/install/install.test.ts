// install / uninstall against temp Claude Code config folders, as a user runs them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { BIN, REPO } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";
import { hookCommand, isOurMcpEntry, ourHookName, programName } from "../../src/install/plan.ts";
import { readLauncher } from "../../src/install/home.ts";

const CLAUDE_BIN_DIR = join(REPO, "node_modules/.bin");
const NO_CLAUDE_PATH = "/usr/local/bin:/usr/bin:/bin";

interface Setup {
  home: string;
  config: string;
  root: string;
}

function setup(t: TestContext): Setup {
  const root = makeRoot(t);
  const base = dirname(root);
  const home = join(base, "home");
  const config = join(base, "claude-config");
  mkdirSync(home);
  return { home, config, root };
}

function run(s: Setup, args: string[], options: { bin?: string; withClaude?: boolean; env?: Record<string, string> } = {}) {
  const env = cleanEnv({
    HOME: s.home,
    BRIDGE_ROOT: s.root,
    PATH: options.withClaude ? `${CLAUDE_BIN_DIR}:${NO_CLAUDE_PATH}` : NO_CLAUDE_PATH,
    XDG_DATA_HOME: "",
    ...options.env,
  });
  return spawnSync(process.execPath, [options.bin ?? BIN, ...args], { env, encoding: "utf8", timeout: 60_000 });
}

// The nine non-admin tools (README: "permissions.allow for the nine non-admin
// mcp__session-bridge__bridge_* tools"), written out: never taken from src/agents/tool-names.ts,
// so a tool dropped or misnamed there cannot make both sides of the comparison agree.
const BRIDGE_TOOL_IDS = [
  "mcp__session-bridge__bridge_send",
  "mcp__session-bridge__bridge_recv",
  "mcp__session-bridge__bridge_peek",
  "mcp__session-bridge__bridge_tail",
  "mcp__session-bridge__bridge_wait",
  "mcp__session-bridge__bridge_status",
  "mcp__session-bridge__bridge_roles",
  "mcp__session-bridge__bridge_whoami",
  "mcp__session-bridge__bridge_config",
];

const read = (path: string) => JSON.parse(readFileSync(path, "utf8"));
const nodeCmd = (bin: string, name: string) => `exec ${process.execPath} ${bin} hook ${name}`;
/** What install registers by default: the launcher of the copy in the stable home (src/install/home.ts). */
const launcher = (s: Setup) => join(s.home, ".local/share/session-bridge/bin/session-bridge");
const launchCmd = (s: Setup, name: string) => `exec ${launcher(s)} hook ${name}`;

test("a fresh install wires the MCP server into .claude.json and the hooks and permissions into settings.json", (t) => {
  const s = setup(t);
  const r = run(s, ["install", "--config-dir", s.config]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Claude Code config folder: ${s.config} \\(from --config-dir\\)`));
  const settings = read(join(s.config, "settings.json"));
  assert.deepEqual(settings.hooks, {
    UserPromptSubmit: [{ hooks: [{ type: "command", command: launchCmd(s, "recv"), timeout: 15 }] }],
    SessionStart: [{ hooks: [{ type: "command", command: launchCmd(s, "recv"), timeout: 15 }] }],
    PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: launchCmd(s, "guard"), timeout: 15 }] }],
  });
  assert.deepEqual(settings.permissions, { allow: BRIDGE_TOOL_IDS });
  const claudeJson = read(join(s.config, ".claude.json"));
  assert.deepEqual(claudeJson.mcpServers, { "session-bridge": { type: "stdio", command: launcher(s), args: ["mcp"], env: {} } });
  assert.equal(settings.mcpServers, undefined, "never in settings.json, where Claude Code ignores it");
  assert.equal(statSync(join(s.config, "settings.json")).mode & 0o777, 0o600);
  assert.equal(readFileSync(join(dirname(launcher(s)), basename(BIN)), "utf8"), readFileSync(BIN, "utf8"), "the copy is this build");
});

test("the config folder comes from --config-dir, else CLAUDE_CONFIG_DIR, else ~/.claude, and says so", (t) => {
  const s = setup(t);
  const viaEnv = run(s, ["install", "--dry-run"], { env: { CLAUDE_CONFIG_DIR: s.config } });
  assert.match(viaEnv.stdout, new RegExp(`^Claude Code config folder: ${s.config} \\(from \\$CLAUDE_CONFIG_DIR\\)`));
  assert.match(viaEnv.stdout, new RegExp(`${s.config}/\\.claude\\.json:`));
  const byDefault = run(s, ["install", "--dry-run"]);
  assert.match(byDefault.stdout, new RegExp(`^Claude Code config folder: ${s.home}/\\.claude \\(the default`));
  assert.match(byDefault.stdout, new RegExp(`${s.home}/\\.claude\\.json:`), "beside the default folder, not inside it");
});

test("install keeps everything else, backs up first, and a second run leaves byte-identical files", (t) => {
  const s = setup(t);
  mkdirSync(s.config);
  const userSettings = {
    model: "opus",
    hooks: {
      UserPromptSubmit: [{ hooks: [{ type: "command", command: "/opt/my-session-bridge-wrapper hook recv" }] }],
      PreToolUse: [{ matcher: "Edit", hooks: [{ type: "command", command: "echo session-bridge hook guard" }] }],
      Stop: [{ hooks: [{ type: "command", command: "notify-send done" }] }],
    },
    permissions: { allow: ["Bash(ls:*)"], deny: ["Read(.env)"] },
  };
  writeFileSync(join(s.config, "settings.json"), JSON.stringify(userSettings, null, 4) + "\n", { mode: 0o644 });
  writeFileSync(
    join(s.config, ".claude.json"),
    JSON.stringify({ numStartups: 3, mcpServers: { other: { type: "stdio", command: "x", args: [] } } }),
  );
  chmodSync(join(s.config, "settings.json"), 0o644);
  assert.equal(run(s, ["install", "--config-dir", s.config]).status, 0);
  const after = read(join(s.config, "settings.json"));
  assert.equal(after.model, "opus");
  assert.deepEqual(after.hooks.UserPromptSubmit[0], userSettings.hooks.UserPromptSubmit[0], "a look-alike command is someone else's");
  assert.deepEqual(after.hooks.PreToolUse[0], userSettings.hooks.PreToolUse[0]);
  assert.deepEqual(after.hooks.Stop, userSettings.hooks.Stop);
  assert.deepEqual(after.permissions.deny, ["Read(.env)"]);
  assert.deepEqual(after.permissions.allow, ["Bash(ls:*)", ...BRIDGE_TOOL_IDS]);
  assert.match(readFileSync(join(s.config, "settings.json"), "utf8"), /\n {4}"model"/, "indentation kept");
  assert.equal(statSync(join(s.config, "settings.json")).mode & 0o777, 0o644, "mode kept");
  const claudeJson = read(join(s.config, ".claude.json"));
  assert.equal(claudeJson.numStartups, 3);
  assert.ok(claudeJson.mcpServers.other && claudeJson.mcpServers["session-bridge"]);
  const backups = readdirSync(s.config).filter((f) => f.includes(".session-bridge-backup-"));
  assert.equal(backups.length, 2, backups.join(", "));
  assert.deepEqual(JSON.parse(readFileSync(join(s.config, backups.find((b) => b.startsWith("settings"))!), "utf8")), userSettings);

  const bytes = [readFileSync(join(s.config, "settings.json")), readFileSync(join(s.config, ".claude.json"))];
  const again = run(s, ["install", "--config-dir", s.config]);
  assert.match(again.stdout, /already up to date/);
  assert.match(again.stdout, /already registered/);
  assert.deepEqual([readFileSync(join(s.config, "settings.json")), readFileSync(join(s.config, ".claude.json"))], bytes);
  assert.equal(readdirSync(s.config).filter((f) => f.includes(".session-bridge-backup-")).length, 2, "no new backup when nothing changes");
});

test("with --in-place, a launcher runs the file where it is; moved, install again points the launcher there, without duplicates", (t) => {
  const s = setup(t);
  assert.equal(run(s, ["install", "--config-dir", s.config, "--wake", "rewake", "--in-place"]).status, 0);
  assert.deepEqual(readLauncher(launcher(s)), { node: process.execPath, script: BIN });
  assert.ok(!existsSync(join(dirname(launcher(s)), "session-bridge.cjs")), "no copy");
  // Into a folder whose name sh would expand unquoted; with the fast start the build writes beside the program.
  const moved = join(s.home, "my $HOME `x`", "session-bridge.cjs");
  mkdirSync(dirname(moved));
  copyFileSync(BIN, moved);
  copyFileSync(join(dirname(BIN), "fast-start.sh"), join(dirname(moved), "fast-start.sh"));
  const r = run(s, ["install", "--config-dir", s.config, "--wake", "rewake", "--in-place"], { bin: moved });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(`launch: ${moved} in place (--in-place), run by the launcher ${launcher(s)}`), r.stdout);
  assert.deepEqual(readLauncher(launcher(s)), { node: process.execPath, script: moved });
  // The fast start sourced from beside the file, where the build writes it with the program.
  assert.ok(readFileSync(launcher(s), "utf8").includes(`. '${join(dirname(moved), "fast-start.sh")}'`));
  // The launcher runs it there: a bridged guard answers (a bridge root of this user's alone).
  mkdirSync(s.root, { recursive: true, mode: 0o700 });
  const guard = spawnSync(launcher(s), ["hook", "guard"], {
    env: cleanEnv({ HOME: s.home, PATH: NO_CLAUDE_PATH, BRIDGE_ROOT: s.root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" }),
    input: JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "git push" } }),
    encoding: "utf8",
  });
  assert.equal(guard.status, 0, guard.stderr);
  assert.match(guard.stdout, /"permissionDecision":"deny"/);
  const hooks = read(join(s.config, "settings.json")).hooks;
  for (const event of ["UserPromptSubmit", "SessionStart", "PreToolUse", "Stop"]) assert.equal(hooks[event].length, 1, event);
  assert.equal(hooks.Stop[0].hooks[0].command, launchCmd(s, "wait"));
  const mcp = read(join(s.config, ".claude.json")).mcpServers["session-bridge"];
  assert.deepEqual([mcp.command, ...mcp.args], [launcher(s), "mcp"]);
  assert.match(
    run(s, ["install", "--config-dir", s.config, "--wake", "rewake", "--in-place"], { bin: moved }).stdout,
    /already up to date/,
  );
});

test("an install that names the old session-bridge.mjs is moved by running install again: to the stable copy of the .cjs, or with --in-place to a launcher of the .cjs", (t) => {
  const s = setup(t);
  const forwarder = join(REPO, "dist/session-bridge.mjs");
  // What the builds whose program was the .mjs wrote with --in-place: the same entries, each
  // running node with the .mjs.
  const writeOld = () => {
    assert.equal(run(s, ["install", "--config-dir", s.config, "--wake", "rewake", "--in-place"]).status, 0);
    const settings = join(s.config, "settings.json");
    const stable = join(s.home, ".local/share/session-bridge/bin/session-bridge");
    writeFileSync(settings, readFileSync(settings, "utf8").replaceAll(stable, `${process.execPath} ${forwarder}`));
    const claudeJson = join(s.config, ".claude.json");
    const config = read(claudeJson);
    config.mcpServers["session-bridge"] = { ...config.mcpServers["session-bridge"], command: process.execPath, args: [forwarder, "mcp"] };
    writeFileSync(claudeJson, JSON.stringify(config, null, 2));
  };
  const hooks = () => read(join(s.config, "settings.json")).hooks;
  const mcp = () => read(join(s.config, ".claude.json")).mcpServers["session-bridge"];
  writeOld();
  assert.equal(hooks().UserPromptSubmit[0].hooks[0].command, nodeCmd(forwarder, "recv"));
  // The old entries still run: the .mjs forwards to the .cjs.
  const old = spawnSync(process.execPath, [forwarder, "hook", "recv"], { encoding: "utf8", env: cleanEnv(), input: "{}" });
  assert.deepEqual([old.status, old.stdout, old.stderr], [0, "", ""]);
  // The user runs install through what their PATH still names: the .mjs.
  const r = run(s, ["install", "--config-dir", s.config, "--wake", "rewake"], { bin: forwarder });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /~ hooks\.UserPromptSubmit/);
  assert.ok(!readFileSync(join(s.config, "settings.json"), "utf8").includes("session-bridge.mjs"), "no hook names the .mjs");
  for (const event of ["UserPromptSubmit", "SessionStart", "PreToolUse", "Stop"]) assert.equal(hooks()[event].length, 1, event);
  // The stable copy is of the .cjs the .mjs forwards to, run by its launcher.
  const launcher = join(s.home, ".local/share/session-bridge/bin/session-bridge");
  assert.deepEqual(readdirSync(dirname(launcher)).sort(), ["session-bridge", "session-bridge.cjs"]);
  assert.equal(hooks().UserPromptSubmit[0].hooks[0].command, `exec ${launcher} hook recv`);
  assert.equal(hooks().Stop[0].hooks[0].command, `exec ${launcher} hook wait`);
  assert.deepEqual([mcp().command, ...mcp().args], [launcher, "mcp"]);
  assert.match(run(s, ["install", "--config-dir", s.config, "--wake", "rewake"]).stdout, /already up to date/);
  // With --in-place, the launcher of the .cjs itself.
  writeOld();
  assert.equal(run(s, ["install", "--config-dir", s.config, "--wake", "rewake", "--in-place"], { bin: forwarder }).status, 0);
  for (const event of ["UserPromptSubmit", "SessionStart", "PreToolUse", "Stop"]) assert.equal(hooks()[event].length, 1, event);
  assert.equal(hooks().UserPromptSubmit[0].hooks[0].command, launchCmd(s, "recv"));
  assert.equal(hooks().PreToolUse[0].hooks[0].command, launchCmd(s, "guard"));
  assert.deepEqual([mcp().command, ...mcp().args], [launcher, "mcp"]);
  assert.equal(readLauncher(launcher)?.script, BIN);
});

test("invalid JSON is refused with the path and the parse error, and nothing is changed", (t) => {
  const s = setup(t);
  mkdirSync(s.config);
  writeFileSync(join(s.config, "settings.json"), '{"hooks": {,}}');
  writeFileSync(join(s.config, ".claude.json"), '{"ok": true}');
  const r = run(s, ["install", "--config-dir", s.config]);
  assert.equal(r.status, 1);
  // One line, where and what, and no backup offered when there is none.
  assert.equal(
    r.stderr,
    `session-bridge: E_CONFIG: ${s.config}/settings.json is not valid JSON: line 1, column 12: expected a property name in double quotes, found ","; fix it by hand; nothing was changed\n`,
  );
  assert.equal(readFileSync(join(s.config, "settings.json"), "utf8"), '{"hooks": {,}}');
  assert.equal(readFileSync(join(s.config, ".claude.json"), "utf8"), '{"ok": true}');
  writeFileSync(join(s.config, "settings.json"), "{}");
  writeFileSync(join(s.config, ".claude.json"), "[1,2]");
  assert.match(run(s, ["install", "--config-dir", s.config]).stderr, /\.claude\.json does not hold a JSON object/);
  assert.equal(readFileSync(join(s.config, "settings.json"), "utf8"), "{}");
});

test("a comment or a trailing comma in settings.json is named as such, and the backup install made is offered", (t) => {
  const s = setup(t);
  mkdirSync(s.config);
  writeFileSync(join(s.config, "settings.json"), '{\n  "theme": "dark"\n}\n');
  assert.equal(run(s, ["install", "--config-dir", s.config]).status, 0);
  const backups = readdirSync(s.config).filter((n) => n.startsWith("settings.json.session-bridge-backup-"));
  assert.equal(backups.length, 1);
  const good = readFileSync(join(s.config, "settings.json"), "utf8");
  writeFileSync(join(s.config, "settings.json"), good.replace("{", "{\n  // mine"));
  const comment = run(s, ["install", "--config-dir", s.config]);
  assert.equal(comment.status, 1);
  assert.equal(
    comment.stderr,
    `session-bridge: E_CONFIG: ${s.config}/settings.json is not valid JSON: line 2, column 3: a comment; JSON has no comments (Claude Code refuses them too): remove it; fix it by hand, or restore ${join(s.config, backups[0]!)}; nothing was changed\n`,
  );
  writeFileSync(join(s.config, "settings.json"), good.replace(/\n\}\n$/, ",\n}\n"));
  assert.match(
    run(s, ["doctor", "--config-dir", s.config]).stdout,
    /fail {2}Claude Code files: E_CONFIG: .*settings\.json is not valid JSON: line \d+, column \d+: a comma before "\}"; JSON allows no trailing comma \(Claude Code refuses it too\): remove it; fix it by hand, or restore .*settings\.json\.session-bridge-backup-\S+; nothing was changed\n {6}fix: repair the file by hand, then run `session-bridge doctor --config-dir .*` again\n/,
  );
});

test("--no-block-git leaves out the guard; a later plain install adds it back; --wake rewake adds the async Stop waiter", (t) => {
  const s = setup(t);
  run(s, ["install", "--config-dir", s.config, "--no-block-git"]);
  assert.equal(read(join(s.config, "settings.json")).hooks.PreToolUse, undefined);
  run(s, ["install", "--config-dir", s.config]);
  assert.equal(read(join(s.config, "settings.json")).hooks.PreToolUse[0].hooks[0].command, launchCmd(s, "guard"));
  const r = run(s, ["install", "--config-dir", s.config, "--wake", "rewake", "--autosend"]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(read(join(s.config, "settings.json")).hooks.Stop, [
    { hooks: [{ type: "command", command: launchCmd(s, "send"), timeout: 15 }] },
    { hooks: [{ type: "command", command: launchCmd(s, "wait"), timeout: 86400, asyncRewake: true }] },
  ]);
  const bad = run(s, ["install", "--config-dir", s.config, "--wake", "tmux"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--wake takes "rewake" \(got "tmux"\)/);
});

test("--dry-run prints the exact changes and touches nothing", (t) => {
  const s = setup(t);
  const r = run(s, ["install", "--config-dir", s.config, "--dry-run"]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(`+ hooks.UserPromptSubmit: {"type":"command","command":"${launchCmd(s, "recv")}","timeout":15}`));
  assert.ok(r.stdout.includes(`+ hooks.PreToolUse[matcher Bash]: {"type":"command","command":"${launchCmd(s, "guard")}","timeout":15}`));
  assert.ok(r.stdout.includes('+ permissions.allow: "mcp__session-bridge__bridge_send"'));
  assert.ok(r.stdout.includes(`+ mcpServers.session-bridge: {"type":"stdio","command":"${launcher(s)}","args":["mcp"],"env":{}}`));
  assert.match(r.stdout, /dry run: nothing was changed/);
  assert.equal(existsSync(s.config), false);
  assert.equal(existsSync(join(s.home, ".local")), false, "no copy made either");
});

test("uninstall removes exactly what install added", (t) => {
  const s = setup(t);
  mkdirSync(s.config);
  const original = {
    theme: "dark",
    hooks: { Stop: [{ hooks: [{ type: "command", command: "notify-send done" }] }] },
    permissions: { allow: ["Bash(ls:*)"] },
  };
  writeFileSync(join(s.config, "settings.json"), JSON.stringify(original, null, 2) + "\n");
  writeFileSync(join(s.config, ".claude.json"), JSON.stringify({ numStartups: 1 }, null, 2) + "\n");
  run(s, ["install", "--config-dir", s.config, "--wake", "rewake"]);
  const r = run(s, ["uninstall", "--config-dir", s.config]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /- hooks\.Stop: .*hook wait/);
  // Exactly restored; the one difference is formatting-level: an emptied "mcpServers" object
  // stays (as `claude mcp remove` leaves it).
  assert.equal(readFileSync(join(s.config, "settings.json"), "utf8"), JSON.stringify(original, null, 2) + "\n");
  assert.deepEqual(read(join(s.config, ".claude.json")), { numStartups: 1, mcpServers: {} });
  assert.ok(r.stdout.includes(`note: the copy in ${dirname(dirname(launcher(s)))} stays`), r.stdout);
  const twice = run(s, ["uninstall", "--config-dir", s.config]);
  assert.match(twice.stdout, /already up to date/);
  assert.match(twice.stdout, /no MCP server of ours registered/);
});

test("with claude on PATH, install registers through `claude mcp add-json` and `claude mcp list` shows it connected; uninstall removes it", (t) => {
  const s = setup(t);
  const r = run(s, ["install", "--config-dir", s.config], { withClaude: true });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /registered MCP server "session-bridge" with `.*claude mcp add-json --scope user`/);
  const env = cleanEnv({ HOME: s.home, CLAUDE_CONFIG_DIR: s.config, BRIDGE_ROOT: s.root, PATH: `${CLAUDE_BIN_DIR}:${NO_CLAUDE_PATH}` });
  const list = spawnSync(join(CLAUDE_BIN_DIR, "claude"), ["mcp", "list"], { env, encoding: "utf8", timeout: 60_000 });
  assert.match(list.stdout, new RegExp(`session-bridge: ${launcher(s)} mcp - ✔ Connected`), list.stdout + list.stderr);
  assert.equal(run(s, ["install", "--config-dir", s.config], { withClaude: true }).stdout.includes("already registered"), true);
  const un = run(s, ["uninstall", "--config-dir", s.config], { withClaude: true });
  assert.equal(un.status, 0, un.stderr);
  const after = spawnSync(join(CLAUDE_BIN_DIR, "claude"), ["mcp", "list"], { env, encoding: "utf8", timeout: 60_000 });
  assert.doesNotMatch(after.stdout, /session-bridge/);
});

test("hooks are written as `exec …` (the shell becomes the hook), and an install that wrote them without it is updated in place, without duplicates", (t) => {
  const s = setup(t);
  assert.equal(run(s, ["install", "--config-dir", s.config, "--wake", "rewake"]).status, 0);
  const path = join(s.config, "settings.json");
  // What installs wrote before: the same entries without `exec`.
  writeFileSync(path, readFileSync(path, "utf8").replaceAll('"exec ', '"'));
  assert.ok(!readFileSync(path, "utf8").includes("exec "));
  const r = run(s, ["install", "--config-dir", s.config, "--wake", "rewake"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /~ hooks\.UserPromptSubmit/);
  const hooks = read(path).hooks;
  for (const event of ["UserPromptSubmit", "SessionStart", "PreToolUse", "Stop"]) assert.equal(hooks[event].length, 1, event);
  assert.equal(hooks.PreToolUse[0].hooks[0].command, launchCmd(s, "guard"));
  assert.equal(hooks.Stop[0].hooks[0].command, launchCmd(s, "wait"));
  // Run as Claude Code runs it, `sh -c "<command>"`: in a bridged session the guard still denies.
  const input = JSON.stringify({ hook_event_name: "PreToolUse", session_id: "s", tool_name: "Bash", tool_input: { command: "git push" } });
  const env = cleanEnv({ HOME: s.home, BRIDGE_ROOT: makeRoot(t), BRIDGE_PROJECT: "p", BRIDGE_ROLE: "r" });
  const guard = spawnSync("/bin/sh", ["-c", hooks.PreToolUse[0].hooks[0].command], { encoding: "utf8", env, input });
  assert.equal(guard.status, 0, guard.stderr);
  assert.match(guard.stdout, /"permissionDecision":"deny"/);
});

test("the `exec` is for Claude Code's hooks on sh: Codex's and Gemini's, and Windows', are written without it, and both forms are ours", () => {
  const self = ["/opt/sb/session-bridge"];
  assert.equal(hookCommand(self, "recv", undefined, "linux"), "exec /opt/sb/session-bridge hook recv");
  assert.equal(hookCommand(self, "recv", undefined, "darwin"), "exec /opt/sb/session-bridge hook recv");
  assert.equal(hookCommand(self, "recv", undefined, "win32"), "/opt/sb/session-bridge hook recv");
  // Codex trusts a hook by a hash of it: a changed command would wait for a person's approval again.
  assert.equal(hookCommand(self, "guard", "codex", "linux"), "/opt/sb/session-bridge hook guard --agent codex");
  assert.equal(hookCommand(self, "guard", "gemini", "linux"), "/opt/sb/session-bridge hook guard --agent gemini");
  for (const command of [
    "exec /opt/sb/session-bridge hook recv",
    "/opt/sb/session-bridge hook recv",
    "exec '/usr/bin/node' '/opt/sb/session-bridge.cjs' hook recv",
  ])
    assert.equal(ourHookName(command), "recv", command);
  for (const command of [
    "exec",
    "exec exec /opt/sb/session-bridge hook recv",
    "exec /opt/sb/other hook recv",
    "exec $SB hook recv",
    "X=1 exec /opt/sb/session-bridge hook recv",
  ])
    assert.equal(ourHookName(command), undefined, command);
});

test("our own entries are recognised in their Windows forms too (node.exe, session-bridge.exe, backslashes), and only ours", () => {
  // As install writes them: a word that needs quoting is single-quoted (backslashes stay literal).
  const ours = [
    "'C:\\Program Files\\nodejs\\node.exe' 'C:\\tools\\session-bridge.mjs' hook recv",
    "'C:\\tools\\session-bridge.exe' hook guard",
    "C:/tools/Session-Bridge.EXE hook wait",
    "NODE.EXE D:/x/session-bridge.cjs hook send",
    "/usr/bin/node /opt/sb/session-bridge.mjs hook recv",
  ];
  assert.deepEqual(
    ours.map((c) => ourHookName(c)),
    ["recv", "guard", "wait", "send", "recv"],
  );
  for (const other of [
    "'C:\\tools\\session-bridge-helper.exe' hook recv",
    "node.exe other.mjs hook recv",
    "session-bridge.exe.bak hook recv",
  ]) {
    assert.equal(ourHookName(other), undefined, other);
  }
  assert.equal(isOurMcpEntry({ command: "C:\\tools\\session-bridge.exe", args: ["mcp"] }), true);
  assert.equal(isOurMcpEntry({ command: "node.exe", args: ["C:\\tools\\session-bridge.mjs", "mcp"] }), true);
  assert.equal(programName("C:\\nodejs\\Node.EXE"), "node");
  assert.equal(programName("/usr/bin/Node"), "Node", "case is kept where no .exe says Windows");
});
