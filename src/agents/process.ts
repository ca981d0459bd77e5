// Which process names may be each agent CLI, for the one place that must ask a name: the tmux
// driver's pane check where neither /proc nor ps can say which process group is in the foreground.
import type { AgentName } from "./agent.ts";
import { isClaudeName } from "./claude/process.ts";
import { isCodexName } from "./codex/process.ts";
import { isGeminiName } from "./gemini/process.ts";

/** The agent a session record names ("claude" when absent, as in records older than `agent`). */
export function recordAgent(agent: string | undefined): AgentName {
  return agent === "codex" || agent === "gemini" ? agent : "claude";
}

export function isAgentCliName(agent: AgentName, name: string): boolean {
  if (agent === "codex") return isCodexName(name);
  if (agent === "gemini") return isGeminiName(name);
  return isClaudeName(name);
}
