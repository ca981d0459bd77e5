// Which agent CLI ran a hook: Claude Code, Codex CLI or Gemini CLI. Their hooks share Claude Code's
// JSON nesting but differ in event names, shell tool names and, above all, in which deny they honour
// (docs/other-agents.md "Portable hook rules"): a wrong deny shape fails OPEN. The installer writes
// `--agent NAME` into every hook command, so detection is only the fallback for hand-written hooks.
// Part of the hook entry: it imports only lib/text.ts, which the entry (src/main.ts) holds anyway.
import { closest } from "../lib/text.ts";

export const AGENTS = ["claude", "codex", "gemini"] as const;
export type AgentName = (typeof AGENTS)[number];

export function isAgentName(value: unknown): value is AgentName {
  return typeof value === "string" && (AGENTS as readonly string[]).includes(value);
}

/** Gemini CLI 0.61.0's own event names (its SessionStart shares Claude Code's name). */
const GEMINI_EVENTS = new Set(["BeforeAgent", "AfterAgent", "BeforeTool", "AfterTool", "BeforeModel", "AfterModel", "BeforeToolSelection"]);

/** Gemini's shell tool as hooks see it; Codex 0.169.0 reports its `exec_command` as `Bash`, like Claude Code. */
export const SHELL_TOOL_NAMES: readonly string[] = ["Bash", "exec_command", "run_shell_command"];

/**
 * The agent that wrote `input`, from the evidence each CLI is seen to give (docs/other-agents.md):
 * a Gemini event name or shell tool; Codex's `turn_id` (every event but SessionStart); then the
 * environment each gives its hooks (Gemini GEMINI_SESSION_ID, Claude Code CLAUDE_PID, the Codex
 * npm launcher's CODEX_MANAGED_BY_NPM). Stdin comes first: a CLI started from another one's shell
 * inherits that one's variables. Claude Code when nothing says otherwise.
 */
export function detectAgent(input: Record<string, unknown>, env: NodeJS.ProcessEnv): AgentName {
  const event = input.hook_event_name;
  if (typeof event === "string" && GEMINI_EVENTS.has(event)) return "gemini";
  if (input.tool_name === "run_shell_command") return "gemini";
  if (typeof input.turn_id === "string") return "codex";
  if (env.GEMINI_SESSION_ID && env.GEMINI_PROJECT_DIR) return "gemini";
  if (env.CLAUDE_PID || env.CLAUDE_CODE_SESSION_ID) return "claude";
  if (env.CODEX_MANAGED_BY_NPM || (typeof input.permission_mode === "string" && typeof input.model === "string" && env.CODEX_HOME))
    return "codex";
  return "claude";
}

/**
 * `--agent NAME` or `--agent=NAME` among a hook's arguments: the name, undefined when absent, or
 * an Error naming the bad value (a hook must answer even then; the caller decides how).
 */
export function agentFlag(args: readonly string[]): AgentName | undefined | Error {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let value: string | undefined;
    if (a === "--agent") value = args[++i];
    else if (a.startsWith("--agent=")) value = a.slice("--agent=".length);
    else continue;
    if (isAgentName(value)) return value;
    return new Error(badAgent(value));
  }
  return undefined;
}

/** Why `value` is no agent name, for every `--agent` (hooks, install, uninstall, doctor): the value, the names, the nearest. */
export function badAgent(value: unknown): string {
  const near = typeof value === "string" ? closest(value, AGENTS) : undefined;
  return `--agent must be one of ${AGENTS.join(", ")} (got ${JSON.stringify(value ?? null)}${near ? `; did you mean ${near}?` : ""})`;
}

/** A hook's answer in a CLI's own shape (structurally hooks/io.ts's HookResult). */
export interface HookAnswer {
  code: number;
  stdout?: string;
  stderr?: string;
}

/** The one deny every CLI honours: exit 2 with the reason on stderr (docs/other-agents.md). */
export function exitTwoDeny(reason: string): HookAnswer {
  return { code: 2, stderr: reason.endsWith("\n") ? reason : `${reason}\n` };
}
