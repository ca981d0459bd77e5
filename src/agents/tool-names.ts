// The bridge's MCP tool names, shared by the server, the installer (permissions.allow) and the
// spawn driver (--allowedTools): one list, so a new tool cannot be allowed in one place and not another.
export const MCP_SERVER_NAME = "session-bridge";

/** The Claude Code plugin and the marketplace that carries it (.claude-plugin/marketplace.json, plugin/). */
export const PLUGIN_NAME = "session-bridge";
export const PLUGIN_MARKETPLACE = "session-bridge";
/** How `claude plugin install` and installed_plugins.json name it: plugin@marketplace. */
export const PLUGIN_ID = `${PLUGIN_NAME}@${PLUGIN_MARKETPLACE}`;

/** Tools any session may call: messaging and reading settings. */
export const NON_ADMIN_TOOLS = [
  "bridge_send",
  "bridge_recv",
  "bridge_peek",
  "bridge_tail",
  "bridge_wait",
  "bridge_status",
  "bridge_roles",
  "bridge_whoami",
  "bridge_config",
] as const;

/** Tools that change automation settings: refused unless the server runs with BRIDGE_ADMIN=1. */
export const ADMIN_TOOLS = ["bridge_mode", "bridge_set", "bridge_settings"] as const;

/** Every tool the MCP server defines: its definitions are typed by this, and a test checks tools/list against the two lists. */
export type ToolName = (typeof NON_ADMIN_TOOLS)[number] | (typeof ADMIN_TOOLS)[number];

/** Whether a tool changes settings: refused unless the server runs with BRIDGE_ADMIN=1. */
export function isAdminTool(name: string): boolean {
  return (ADMIN_TOOLS as readonly string[]).includes(name);
}

/** How Claude Code names a tool of ours when `install` registered the server: mcp__session-bridge__bridge_send. */
export function toolId(tool: string): string {
  return `mcp__${MCP_SERVER_NAME}__${tool}`;
}

/**
 * How Claude Code names it when the plugin provides the server: mcp__plugin_<plugin>_<server>__<tool>
 * (seen on 2.1.328, docs/claude-code.md "The plugin"), here mcp__plugin_session-bridge_session-bridge__bridge_send.
 */
export function pluginToolId(tool: string): string {
  return `mcp__plugin_${PLUGIN_NAME}_${MCP_SERVER_NAME}__${tool}`;
}

export const NON_ADMIN_TOOL_IDS: readonly string[] = NON_ADMIN_TOOLS.map(toolId);
export const PLUGIN_NON_ADMIN_TOOL_IDS: readonly string[] = NON_ADMIN_TOOLS.map(pluginToolId);
