// Where Codex CLI 0.169.0 reads its wiring (docs/other-agents.md "Codex CLI"): `$CODEX_HOME`
// (default ~/.codex) holds config.toml ([mcp_servers.NAME]) and hooks.json (Claude Code's nesting).
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export interface CodexHome {
  dir: string;
  configPath: string;
  hooksPath: string;
  why: string;
}

export function resolveCodexHome(flag: string | undefined, env: NodeJS.ProcessEnv): CodexHome {
  const [dir, why] = flag
    ? [resolve(flag), `Codex home: ${resolve(flag)} (--config-dir)`]
    : env.CODEX_HOME
      ? [resolve(env.CODEX_HOME), `Codex home: ${resolve(env.CODEX_HOME)} (from CODEX_HOME)`]
      : [join(homedir(), ".codex"), `Codex home: ${join(homedir(), ".codex")} (the default; set CODEX_HOME or --config-dir for another)`];
  return { dir, configPath: join(dir, "config.toml"), hooksPath: join(dir, "hooks.json"), why };
}

/**
 * A stdio server under Codex gets only HOME, LANG, PATH, TMPDIR of the launch environment, plus
 * `env` and the variables named in `env_vars` (pinned): the identity and the bridge's own
 * switches are named here. `required`: `codex exec` otherwise asks the model before the server
 * has listed its tools.
 */
export const CODEX_MCP_ENV_VARS = ["BRIDGE_PROJECT", "BRIDGE_ROLE", "BRIDGE_ROOT", "BRIDGE_ADMIN", "BRIDGE_CHAIN", "BRIDGE_HOP"] as const;

export function codexMcpEntry(self: readonly string[]): Record<string, unknown> {
  return { command: self[0], args: [...self.slice(1), "mcp"], env_vars: [...CODEX_MCP_ENV_VARS], required: true };
}

/** The trust key Codex writes in config.toml once a person approves a hook: `PATH:event_snake:group:handler`. */
export function codexTrustKey(hooksPath: string, event: string, group: number, handler: number): string {
  const snake = event.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return `${hooksPath}:${snake}:${group}:${handler}`;
}
