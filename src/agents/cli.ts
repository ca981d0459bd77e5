// How each agent CLI is started for a headless run: the program the spawn driver looks up on PATH
// and runs, and the words the daemon's log, `spawner status` and `send`'s wake forecast use for
// such a run (src/spawner/drivers/spawn.ts builds the full command line).
import type { AgentName } from "./agent.ts";

/** The program a run of each CLI starts. */
export const AGENT_COMMAND: Readonly<Record<AgentName, string>> = { claude: "claude", codex: "codex", gemini: "gemini" };

/** How a headless run of this CLI is named to users: `claude -p`, `codex exec`, `gemini -p`. */
export function runLabel(agent: AgentName): string {
  return agent === "claude" ? "claude -p" : agent === "codex" ? "codex exec" : "gemini -p";
}
