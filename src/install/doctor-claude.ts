// `doctor`'s checks of Claude Code's own wiring (src/install/doctor.ts runs them): the MCP server
// in the .claude.json the sessions read, the launcher it names, our hooks and permissions in
// settings.json, and the plugin route beside them (doctor-plugin.ts). Each problem comes with the
// command that fixes it.
import { accessSync, constants, existsSync } from "node:fs";
import { readJsonFile } from "../agents/claude/config.ts";
import type { ConfigDir } from "../agents/claude/config.ts";
import { describeError } from "../lib/errors.ts";
import { isRecord } from "../lib/fs.ts";
import { hookCommandWords, isBridgeInvocation, isOurMcpEntry, ourHookName } from "./plan.ts";
import type { HookName } from "./plan.ts";
import { readLauncher } from "./home.ts";
import { findOnPath } from "../lib/proc.ts";
import { MCP_SERVER_NAME, NON_ADMIN_TOOL_IDS } from "../agents/tool-names.ts";
import { checkDuplicate, checkPlugin, checkPluginPermissions, pluginActive, readPluginState } from "./doctor-plugin.ts";
import type { Check, Level } from "./check.ts";

/** Which of the absolute paths among the first two words (binary, or node + script) do not exist. */
export function missingFiles(words: readonly string[]): string[] {
  const missing: string[] = [];
  for (const path of words.slice(0, 2)) {
    if (!path.startsWith("/")) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch {
      missing.push(path);
    }
  }
  return missing;
}

export function checkClaudeWiring(config: ConfigDir, flag: string): Check[] {
  const checks: Check[] = [];
  const install = `session-bridge install${flag}`;
  let claudeJson: Record<string, unknown>;
  let settings: Record<string, unknown>;
  try {
    claudeJson = readJsonFile(config.claudeJsonPath).value;
    settings = readJsonFile(config.settingsPath).value;
  } catch (err) {
    return [
      {
        name: "Claude Code files",
        level: "fail",
        detail: describeError(err),
        fix: `repair the file by hand, then run \`session-bridge doctor${flag}\` again`,
      },
    ];
  }
  const entry = isRecord(claudeJson.mcpServers) ? claudeJson.mcpServers[MCP_SERVER_NAME] : undefined;
  // The plugin route (src/install/doctor-plugin.ts): alone, it stands in for the checks below; with a
  // direct install too, both are checked and the duplicate named.
  const plugin = readPluginState(config.dir, settings);
  checks.push(...checkPlugin(plugin));
  if (pluginActive(plugin)) {
    if (!isOurMcpEntry(entry) && !hasOurHooks(settings)) return [...checks, checkPluginPermissions(settings, config.settingsPath)];
    checks.push(checkDuplicate(config.settingsPath, flag));
  }
  if (entry === undefined)
    checks.push({
      name: "MCP server",
      level: "fail",
      detail: `no "${MCP_SERVER_NAME}" in mcpServers of ${config.claudeJsonPath}`,
      fix: install,
    });
  else if (!isOurMcpEntry(entry))
    checks.push({
      name: "MCP server",
      level: "fail",
      detail: `mcpServers.${MCP_SERVER_NAME} in ${config.claudeJsonPath} does not run session-bridge: ${JSON.stringify(entry)}`,
      fix: install,
    });
  else {
    const { command, args } = entry as { command: string; args: string[] };
    const missing = missingFiles([command, ...args]);
    checks.push(
      missing.length > 0
        ? {
            name: "MCP server",
            level: "fail",
            detail: `registered in ${config.claudeJsonPath} but ${missing.join(", ")} does not exist (moved or deleted?)`,
            fix: install,
          }
        : {
            name: "MCP server",
            level: "ok",
            detail: `registered at user scope in ${config.claudeJsonPath}: ${[command, ...args].join(" ")}`,
          },
    );
  }
  if (isOurMcpEntry(entry)) checks.push(...checkLauncher((entry as { command: string }).command, install));
  checks.push(...checkUnreadJson(config, entry !== undefined, install));
  if (isRecord(settings.mcpServers) && settings.mcpServers[MCP_SERVER_NAME] !== undefined) {
    checks.push({
      name: "stray MCP entry",
      level: "warn",
      detail: `${config.settingsPath} has mcpServers.${MCP_SERVER_NAME}, which Claude Code ignores (it reads ${config.claudeJsonPath})`,
      fix: `delete mcpServers.${MCP_SERVER_NAME} from ${config.settingsPath}`,
    });
  }
  checks.push(...checkHooks(config, settings, install));
  const allow = isRecord(settings.permissions) && Array.isArray(settings.permissions.allow) ? settings.permissions.allow : [];
  const missingAllow = NON_ADMIN_TOOL_IDS.filter((id) => !allow.includes(id));
  checks.push(
    missingAllow.length === 0
      ? { name: "tool permissions", level: "ok", detail: `the ${NON_ADMIN_TOOL_IDS.length} non-admin bridge tools are allowed` }
      : {
          name: "tool permissions",
          level: "warn",
          detail: `not allowed yet (sessions will ask each time): ${missingAllow.join(", ")}`,
          fix: install,
        },
  );
  return checks;
}

/** The launcher install wrote (src/install/home.ts): is its copy there, and a node to run it? */
function checkLauncher(path: string, install: string): Check[] {
  const launcher = readLauncher(path);
  if (launcher === undefined) return [];
  const name = "launch";
  if (!existsSync(launcher.script))
    return [{ name, level: "fail", detail: `${path} runs ${launcher.script}, which is missing (deleted?)`, fix: install }];
  const onPath = findOnPath("node", process.env);
  if (launcher.node !== undefined && existsSync(launcher.node))
    return [{ name, level: "ok", detail: `${path} runs ${launcher.script} with ${launcher.node}` }];
  const gone = launcher.node === undefined ? "" : `${launcher.node} is gone (node upgraded or removed?); `;
  if (onPath !== undefined)
    return [
      {
        name,
        level: launcher.node === undefined ? "ok" : "warn",
        detail: `${gone}${path} runs ${launcher.script} with the node on PATH (here: ${onPath})`,
        ...(launcher.node !== undefined && { fix: `${install} (it picks a node again)` }),
      },
    ];
  return [
    {
      name,
      level: "fail",
      detail: `${gone}no node on PATH either: bridged sessions get "session-bridge cannot run" at start and on each prompt, and the git guard blocks Bash`,
      fix: `install Node 20+, then ${install}`,
    },
  ];
}

/**
 * Our entry in the .claude.json these sessions do not read: ~/.claude.json and
 * ~/.claude/.claude.json are each read only with CLAUDE_CONFIG_DIR unset or set (docs/claude-code.md
 * "Configuration files"), and an install made the other way leaves `claude mcp list` without us.
 */
function checkUnreadJson(config: ConfigDir, registered: boolean, install: string): Check[] {
  const other = config.otherClaudeJsonPath;
  if (other === undefined) return [];
  let servers: unknown;
  try {
    servers = readJsonFile(other).value.mcpServers;
  } catch {
    // A broken file Claude Code does not read here is not this config's problem.
    return [];
  }
  if (!isRecord(servers) || !isOurMcpEntry(servers[MCP_SERVER_NAME])) return [];
  const rule =
    config.claudeConfigDirVar === undefined
      ? `Claude Code reads ${other} only with CLAUDE_CONFIG_DIR=${config.dir} set, and these sessions run without it`
      : `Claude Code reads ${other} only with CLAUDE_CONFIG_DIR unset, and these sessions run with CLAUDE_CONFIG_DIR=${config.dir}`;
  const cleanup = `delete mcpServers.${MCP_SERVER_NAME} from ${other} (or run uninstall the way it was installed)`;
  return [
    registered
      ? { name: "unread MCP entry", level: "warn", detail: `${other} also registers ${MCP_SERVER_NAME}: ${rule}`, fix: cleanup }
      : {
          name: "unread MCP entry",
          level: "fail",
          detail: `the MCP server is registered in ${other}, not in ${config.claudeJsonPath}: ${rule}, so \`claude mcp list\` shows no ${MCP_SERVER_NAME}`,
          fix: `${install}, then ${cleanup}`,
        },
  ];
}

function hasOurHooks(settings: Record<string, unknown>): boolean {
  const hooks = isRecord(settings.hooks) ? settings.hooks : {};
  return Object.values(hooks).some(
    (groups) =>
      Array.isArray(groups) &&
      groups.some((g) => isRecord(g) && Array.isArray(g.hooks) && g.hooks.some((h) => isRecord(h) && ourHookName(h.command) !== undefined)),
  );
}

function checkHooks(config: ConfigDir, settings: Record<string, unknown>, install: string): Check[] {
  const present = new Map<string, string>(); // "Event/name" → command
  const hooks = isRecord(settings.hooks) ? settings.hooks : {};
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) continue;
    for (const group of groups) {
      if (!isRecord(group) || !Array.isArray(group.hooks)) continue;
      for (const hook of group.hooks) {
        const name = isRecord(hook) ? ourHookName(hook.command) : undefined;
        if (name) present.set(`${event}/${name}`, String((hook as Record<string, unknown>).command));
      }
    }
  }
  const checks: Check[] = [];
  const wanted: Array<[string, HookName, Level, string]> = [
    ["UserPromptSubmit", "recv", "fail", "messages are injected on each prompt"],
    ["SessionStart", "recv", "fail", "messages are injected when a session starts"],
    ["PreToolUse", "guard", "warn", "git commit/push/reset are denied in bridged sessions"],
    ["Stop", "wait", "info", "idle sessions are woken by mail (install --wake rewake)"],
  ];
  for (const [event, name, levelIfMissing, what] of wanted) {
    const command = present.get(`${event}/${name}`);
    if (!command) {
      const fix = name === "wait" ? `${install} --wake rewake` : install;
      checks.push({
        name: `hook ${name} (${event})`,
        level: levelIfMissing,
        detail: `not in ${config.settingsPath} (with it, ${what})`,
        fix,
      });
      continue;
    }
    const words = hookCommandWords(command) ?? [];
    const missing = isBridgeInvocation(words) ? missingFiles(words) : [];
    checks.push(
      missing.length > 0
        ? { name: `hook ${name} (${event})`, level: "fail", detail: `points at ${missing.join(", ")}, which does not exist`, fix: install }
        : { name: `hook ${name} (${event})`, level: "ok", detail: `${what}: ${command}` },
    );
  }
  return checks;
}
