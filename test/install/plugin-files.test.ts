// The Claude Code plugin the repository carries (.claude-plugin/marketplace.json → plugin/): its
// committed files are what src/install/plugin.ts makes from the hooks `install` writes, the build
// puts the program beside them, and its launcher fails closed like install's (src/install/home.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { BIN, REPO } from "../helpers/bin.ts";
import { cleanEnv, makeRoot } from "../helpers/cli.ts";
import { pluginHooks, pluginLauncherText, pluginMcp } from "../../src/install/plugin.ts";

const PLUGIN = join(REPO, "plugin");
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));
const REGENERATE = "run `node scripts/plugin-files.mjs` (then `npm run format`) and commit the result";

test("the committed plugin files are what src/install/plugin.ts makes", () => {
  assert.deepEqual(readJson(join(PLUGIN, "hooks/hooks.json")), pluginHooks(), REGENERATE);
  assert.deepEqual(readJson(join(PLUGIN, ".mcp.json")), pluginMcp(), REGENERATE);
  assert.equal(readFileSync(join(PLUGIN, "bin/session-bridge"), "utf8"), pluginLauncherText(), REGENERATE);
  assert.equal(statSync(join(PLUGIN, "bin/session-bridge")).mode & 0o111, 0o111, "the launcher is executable");
});

test("hooks.json holds install's default hooks, each through the quoted ${CLAUDE_PLUGIN_ROOT} launcher", () => {
  // Written out, not taken from src/: what Claude Code will run.
  const run = (name: string) => ({
    type: "command",
    command: `exec "\${CLAUDE_PLUGIN_ROOT}/bin/session-bridge" hook ${name}`,
    timeout: 15,
  });
  assert.deepEqual(readJson(join(PLUGIN, "hooks/hooks.json")).hooks, {
    UserPromptSubmit: [{ hooks: [run("recv")] }],
    SessionStart: [{ hooks: [run("recv")] }],
    PreToolUse: [{ matcher: "Bash", hooks: [run("guard")] }],
  });
  assert.deepEqual(readJson(join(PLUGIN, ".mcp.json")).mcpServers, {
    "session-bridge": { type: "stdio", command: "${CLAUDE_PLUGIN_ROOT}/bin/session-bridge", args: ["mcp"], env: {} },
  });
});

test("the marketplace names the plugin folder, whose version is the package's", () => {
  const market = readJson(join(REPO, ".claude-plugin/marketplace.json"));
  assert.equal(market.name, "session-bridge");
  assert.deepEqual(
    market.plugins.map((p: { name: string; source: string }) => [p.name, p.source]),
    [["session-bridge", "./plugin"]],
  );
  const manifest = readJson(join(PLUGIN, ".claude-plugin/plugin.json"));
  assert.equal(manifest.name, "session-bridge");
  // Claude Code caches a plugin under its version (plugins/cache/<market>/<plugin>/<version>/).
  assert.equal(manifest.version, readJson(join(REPO, "package.json")).version, "bump plugin/.claude-plugin/plugin.json with package.json");
});

test("the build puts this very program in plugin/lib, and the launcher runs it", () => {
  assert.equal(readFileSync(join(PLUGIN, "lib/session-bridge.cjs"), "utf8"), readFileSync(BIN, "utf8"));
  // Its fast start beside it, as sh reads it: the very code install's launcher has written in.
  const sourced = spawnSync("sh", ["-c", '. "$1" && printf %s "$fast"', "sh", join(PLUGIN, "lib/fast-start.sh")], { encoding: "utf8" });
  assert.equal(sourced.status, 0, sourced.stderr);
  assert.equal(sourced.stdout, __FAST_START__);
  const r = spawnSync(join(PLUGIN, "bin/session-bridge"), ["--version"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), readJson(join(REPO, "package.json")).version);
});

/** A copy of the plugin folder (a cached plugin is one) to break. */
function copy(t: TestContext): { dir: string; root: string } {
  const root = makeRoot(t);
  const dir = join(dirname(root), "plugin");
  cpSync(PLUGIN, dir, { recursive: true });
  return { dir, root };
}

function runHook(dir: string, root: string, name: string, PATH: string, bridged: boolean) {
  const command = readJson(join(dir, "hooks/hooks.json")).hooks[name === "guard" ? "PreToolUse" : "SessionStart"][0].hooks[0].command;
  // Claude Code runs it through sh with ${CLAUDE_PLUGIN_ROOT} replaced by the folder (docs/claude-code.md "The plugin").
  const line = (command as string).replaceAll("${CLAUDE_PLUGIN_ROOT}", dir);
  const input = JSON.stringify({
    hook_event_name: "PreToolUse",
    tool_name: "Bash",
    tool_input: { command: "git commit -m x" },
    session_id: "s1",
  });
  const env = cleanEnv({ BRIDGE_ROOT: root, PATH, ...(bridged && { BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" }) });
  return spawnSync("/bin/sh", ["-c", line], { env, input, encoding: "utf8", timeout: 60_000 });
}

test("an unbuilt plugin fails closed in bridged sessions and says to build; elsewhere it stays out of the way", (t) => {
  const { dir, root } = copy(t);
  rmSync(join(dir, "lib"), { recursive: true });
  const PATH = `${dirname(process.execPath)}:/usr/bin:/bin`;
  const guard = runHook(dir, root, "guard", PATH, true);
  assert.equal(guard.status, 2, "the guard blocks Bash (exit 2), never fails open (127)");
  assert.match(guard.stderr, /session-bridge cannot run \(.*\/lib\/session-bridge\.cjs is missing\); .*`npm run build` in the clone/);
  const recv = runHook(dir, root, "recv", PATH, true);
  assert.equal(recv.status, 0);
  assert.match(recv.stdout, /session-bridge cannot run/);
  const unbridged = runHook(dir, root, "guard", PATH, false);
  assert.deepEqual([unbridged.status, unbridged.stderr], [0, ""]);
});

test("with no node on PATH the plugin's guard blocks Bash in a bridged session", (t) => {
  const { dir, root } = copy(t);
  const empty = join(dirname(root), "empty");
  mkdirSync(empty);
  const guard = runHook(dir, root, "guard", empty, true);
  assert.equal(guard.status, 2);
  assert.match(guard.stderr, /session-bridge cannot run \(no node on PATH\); install Node 20\+/);
  // With node, the same copy guards for real: a bridged git commit is denied by the guard itself.
  const real = runHook(dir, root, "guard", `${dirname(process.execPath)}:/usr/bin:/bin`, true);
  assert.equal(real.status, 0, real.stderr);
  assert.match(real.stdout, /"permissionDecision":"deny"/);
});
