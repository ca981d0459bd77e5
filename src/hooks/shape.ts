// Answers a hook in the shape of the CLI that ran it (src/agents/*): a deny each one honours, and
// injected context each one hands to the model. Which agent: `--agent` from the installed command,
// else what the input and environment say (agents/agent.ts).
import { detectAgent } from "../agents/agent.ts";
import type { AgentName } from "../agents/agent.ts";
import { codexContext, codexDeny } from "../agents/codex/hooks.ts";
import { geminiContext, geminiDeny } from "../agents/gemini/hooks.ts";
import type { HookInput, HookResult } from "./io.ts";

export function agentOf(input: HookInput, env: NodeJS.ProcessEnv, flag: AgentName | undefined): AgentName {
  return flag ?? detectAgent(input, env);
}

export function denyAs(agent: AgentName, reason: string): HookResult {
  if (agent === "gemini") return geminiDeny(reason);
  if (agent === "codex") return codexDeny(reason);
  const output = { hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: reason } };
  return { code: 0, stdout: JSON.stringify(output) + "\n" };
}

export function contextAs(agent: AgentName, event: string, text: string): HookResult {
  if (agent === "gemini") return geminiContext(event, text);
  if (agent === "codex") return codexContext(event, text);
  return { code: 0, stdout: JSON.stringify({ hookSpecificOutput: { hookEventName: event, additionalContext: text } }) + "\n" };
}

/** What "the session" is called in logs and session records. */
export function agentLabel(agent: AgentName): string {
  return agent === "claude" ? "claude" : agent;
}
