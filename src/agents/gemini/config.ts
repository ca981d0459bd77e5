// Where Gemini CLI 0.61.0 reads its wiring (docs/other-agents.md "Gemini CLI"): user settings
// `$GEMINI_CLI_HOME/.gemini/settings.json` (GEMINI_CLI_HOME replaces the home folder), holding
// both `mcpServers` and `hooks` (timeouts in milliseconds).
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export interface GeminiHome {
  dir: string;
  settingsPath: string;
  why: string;
}

export function resolveGeminiHome(flag: string | undefined, env: NodeJS.ProcessEnv): GeminiHome {
  const [dir, why] = flag
    ? [resolve(flag), `Gemini settings folder: ${resolve(flag)} (--config-dir)`]
    : env.GEMINI_CLI_HOME
      ? [
          join(resolve(env.GEMINI_CLI_HOME), ".gemini"),
          `Gemini settings folder: ${join(resolve(env.GEMINI_CLI_HOME), ".gemini")} (from GEMINI_CLI_HOME)`,
        ]
      : [
          join(homedir(), ".gemini"),
          `Gemini settings folder: ${join(homedir(), ".gemini")} (the default; set GEMINI_CLI_HOME or --config-dir for another)`,
        ];
  return { dir, settingsPath: join(dir, "settings.json"), why };
}

/** What `gemini mcp add --scope user NAME CMD ARGS` writes; the server inherits BRIDGE_* (pinned). */
export function geminiMcpEntry(self: readonly string[]): Record<string, unknown> {
  return { command: self[0], args: [...self.slice(1), "mcp"] };
}
