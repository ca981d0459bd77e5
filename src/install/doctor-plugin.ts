// `doctor` for the Claude Code plugin route (`claude plugin marketplace add <clone>` then `claude
// plugin install session-bridge@session-bridge`): is the plugin installed and enabled, does the folder
// it runs from still hold the launcher and the program, and is a direct `install` active as well
// (every hook would then run twice). What Claude Code keeps where: docs/claude-code.md "The plugin".
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PLUGIN_ID, PLUGIN_MARKETPLACE, PLUGIN_NAME, PLUGIN_NON_ADMIN_TOOL_IDS } from "../agents/tool-names.ts";
import { isRecord } from "../lib/fs.ts";
import { PLUGIN_LAUNCHER, PLUGIN_SCRIPT } from "./plugin.ts";
import type { Check } from "./check.ts";

export interface PluginState {
  /** Scopes of the entries in <config>/plugins/installed_plugins.json (user, project, local). */
  scopes: string[];
  /** enabledPlugins["session-bridge@session-bridge"] in the user settings.json; undefined when absent. */
  enabled: boolean | undefined;
  /** The folder Claude Code runs it from: a directory marketplace's plugin folder (live), else the cached copy. */
  folder: string | undefined;
  /** For a directory marketplace: the folder it was added from. */
  marketplaceDir: string | undefined;
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(path, "utf8"));
    return isRecord(value) ? value : undefined;
  } catch {
    // Missing or not JSON: Claude Code's own files; for doctor, as if the plugin were not there.
    return undefined;
  }
}

/** What Claude Code's files in `configDir` say about our plugin; `settings` is the user settings.json, already read. */
export function readPluginState(configDir: string, settings: Record<string, unknown>): PluginState {
  const installed = readJson(join(configDir, "plugins", "installed_plugins.json"));
  const entries = isRecord(installed?.plugins) ? installed.plugins[PLUGIN_ID] : undefined;
  const list = Array.isArray(entries) ? entries.filter(isRecord) : [];
  const scopes = list.map((e) => (typeof e.scope === "string" ? e.scope : "?"));
  const user = list.find((e) => e.scope === "user") ?? list[0];
  const enabledValue = isRecord(settings.enabledPlugins) ? settings.enabledPlugins[PLUGIN_ID] : undefined;
  const enabled = typeof enabledValue === "boolean" ? enabledValue : undefined;
  const market = readJson(join(configDir, "plugins", "known_marketplaces.json"))?.[PLUGIN_MARKETPLACE];
  const source = isRecord(market) && isRecord(market.source) ? market.source : undefined;
  let folder = typeof user?.installPath === "string" ? user.installPath : undefined;
  let marketplaceDir: string | undefined;
  if (source?.source === "directory" && typeof source.path === "string") {
    // A directory marketplace runs the plugin live from its folder, not from the cached copy (seen on 2.1.328).
    marketplaceDir = source.path;
    const manifest = readJson(join(source.path, ".claude-plugin", "marketplace.json"));
    const plugins = Array.isArray(manifest?.plugins) ? manifest.plugins.filter(isRecord) : [];
    const ours = plugins.find((p) => p.name === PLUGIN_NAME);
    folder = resolve(source.path, typeof ours?.source === "string" ? ours.source : "plugin");
  }
  return { scopes, enabled, folder, marketplaceDir };
}

/** Installed at some scope and not switched off in the user settings. */
export function pluginActive(state: PluginState): boolean {
  return state.scopes.length > 0 && state.enabled !== false;
}

const UNINSTALL = `claude plugin uninstall ${PLUGIN_ID}`;

export function checkPlugin(state: PluginState): Check[] {
  const name = "plugin";
  if (state.scopes.length === 0) return [];
  const where = `${PLUGIN_ID} (${state.scopes.join(", ")} scope)`;
  if (state.enabled === false)
    return [{ name, level: "info", detail: `${where} is installed but disabled: it runs nothing (\`claude plugin enable ${PLUGIN_ID}\`)` }];
  const folder = state.folder;
  if (folder === undefined || !existsSync(folder)) {
    const gone = state.marketplaceDir ?? folder ?? "its folder";
    return [
      {
        name,
        level: "fail",
        detail: `${where}: ${gone} is gone, so Claude Code loads nothing of it (\`claude plugin list\` says "cache-miss"): no MCP server, no hooks, no git guard`,
        fix: `put the clone back there and \`npm run build\`, or \`${UNINSTALL}\` and \`claude plugin marketplace remove ${PLUGIN_MARKETPLACE}\`, then add the marketplace from where the clone is now`,
      },
    ];
  }
  const launcher = join(folder, PLUGIN_LAUNCHER);
  const script = join(folder, PLUGIN_SCRIPT);
  const build = state.marketplaceDir ? `\`npm run build\` in ${state.marketplaceDir}` : `\`claude plugin update ${PLUGIN_ID}\``;
  if (!existsSync(launcher) || !existsSync(script)) {
    const missing = [launcher, script].filter((p) => !existsSync(p)).join(", ");
    return [
      {
        name,
        level: "fail",
        detail: `${where} runs ${folder}, but ${missing} is missing: its hooks say "session-bridge cannot run" and the guard blocks Bash in bridged sessions`,
        fix: build,
      },
    ];
  }
  const r = spawnSync(launcher, ["--version"], { encoding: "utf8", timeout: 20_000 });
  const version = r.stdout?.trim();
  if (r.status !== 0)
    return [
      {
        name,
        level: "fail",
        detail: `${where}: ${launcher} --version exited ${r.status}: ${(r.stderr ?? "").trim()}`,
        fix: `install Node 20+ on PATH, or ${build}`,
      },
    ];
  return [
    {
      name,
      level: "ok",
      detail: `${where} runs ${folder} (version ${version}${version === __VERSION__ ? "" : `; this binary is ${__VERSION__}`}): its MCP server, hook recv on UserPromptSubmit and SessionStart, the git guard on PreToolUse Bash`,
    },
  ];
}

/** Both routes at once: each event runs our hook twice and sessions see two bridge servers. */
export function checkDuplicate(settingsPath: string, flag: string): Check {
  return {
    name: "plugin and install",
    level: "warn",
    detail: `both the plugin ${PLUGIN_ID} and a direct \`session-bridge install\` (${settingsPath}) are active: every hook runs twice and sessions get two bridge MCP servers`,
    fix: `keep one: \`session-bridge uninstall${flag}\` (keeps the plugin) or \`${UNINSTALL}\` (keeps the direct install)`,
  };
}

/** The plugin cannot add permission rules (a plugin's settings.json holds only `agent` and `subagentStatusLine` on 2.1.328). */
export function checkPluginPermissions(settings: Record<string, unknown>, settingsPath: string): Check {
  const allow = isRecord(settings.permissions) && Array.isArray(settings.permissions.allow) ? settings.permissions.allow : [];
  const missing = PLUGIN_NON_ADMIN_TOOL_IDS.filter((id) => !allow.includes(id));
  return missing.length === 0
    ? {
        name: "tool permissions",
        level: "ok",
        detail: `the ${PLUGIN_NON_ADMIN_TOOL_IDS.length} non-admin bridge tools of the plugin are allowed`,
      }
    : {
        name: "tool permissions",
        level: "info",
        detail: `not allowed (sessions ask before each; \`claude -p\` refuses them unless --allowedTools names them): ${missing.join(", ")}`,
        fix: `answer "Yes, and don't ask again" once per tool, or add them to permissions.allow in ${settingsPath}`,
      };
}
