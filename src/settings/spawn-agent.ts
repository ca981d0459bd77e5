// Which agent CLI the spawn driver runs for a role: its `agent` setting, else the CLI of its newest
// session record, else Claude Code. One decision for the driver (src/spawner/drivers/spawn-target.ts)
// and for `send`'s wake forecast (src/wake/forecast.ts), so what `send` promises is what runs.
// Effects: none beyond reading the role's session records.
import type { RolePaths } from "../bus/layout.ts";
import { listSessions } from "../bus/sessions.ts";
import type { SessionView } from "../bus/sessions.ts";
import type { AgentName } from "../agents/agent.ts";
import { recordAgent } from "../agents/process.ts";
import type { EffectiveRole } from "./schema.ts";

export interface SpawnAgent {
  agent: AgentName;
  /** Why this CLI: set by name, the role's newest session record, or the default. */
  why: string;
}

/** The role's session records (its folder's, or `recorded` where the store keeps them: Redis), the most recently seen first. */
export function sessionsNewestFirst(paths: RolePaths, recorded?: readonly SessionView[]): SessionView[] {
  return [...(recorded ?? listSessions(paths))].sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0));
}

/** `newestFirst`: the role's records as sessionsNewestFirst gives them. */
export function spawnAgent(role: EffectiveRole, newestFirst: readonly SessionView[]): SpawnAgent {
  if (role.agent !== undefined) return { agent: role.agent, why: `set by name (projects.${role.project}.roles.${role.role}.agent)` };
  // Records written by a hook name their CLI and session; under Codex our MCP server, which gets
  // no session variables, also leaves one of its own with neither: it says nothing about the CLI.
  const newest = newestFirst.find((s) => s.agent !== undefined || s.sessionId !== undefined) ?? newestFirst[0];
  if (newest) return { agent: recordAgent(newest.agent), why: `the agent of its newest session (pid ${newest.pid})` };
  return { agent: "claude", why: "no session of the role yet: Claude Code (set agent=codex|gemini to choose)" };
}
