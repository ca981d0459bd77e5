// The bridge's MCP tool names, shared by the server, the installer (permissions.allow) and the
// spawn driver (--allowedTools): one list, so a new tool cannot be allowed in one place and not another.
export const MCP_SERVER_NAME = "session-bridge";

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

/** How Claude Code names a tool of ours: mcp__session-bridge__bridge_send. */
export function toolId(tool: string): string {
  return `mcp__${MCP_SERVER_NAME}__${tool}`;
}

export const NON_ADMIN_TOOL_IDS: readonly string[] = NON_ADMIN_TOOLS.map(toolId);
