// The session record of a Codex or Gemini session, from its hook's input: neither CLI gives hooks a
// CLAUDE_PID, and their hooks' parent is the CLI's own process (codex's native binary, the gemini
// node process; docs/other-agents.md), so the record's pid is the hook's parent, past a shell that
// did not exec the command.
import { readFileSync } from "node:fs";
import type { AgentName } from "../agents/agent.ts";
import { parseTmuxEnv } from "../bus/sessions.ts";
import type { SessionInfo } from "../bus/sessions.ts";
import { parentPid } from "../lib/proc.ts";
import type { HookInput } from "./io.ts";

const SHELLS = new Set(["sh", "dash", "bash", "zsh"]);

export function vendorSession(
  agent: AgentName,
  env: NodeJS.ProcessEnv,
  input: HookInput,
  sessionId: string | undefined,
): SessionInfo | undefined {
  let pid = process.ppid;
  if (SHELLS.has(commOf(pid))) pid = parentPid(pid) ?? pid;
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const info: SessionInfo = { pid, agent };
  const id = sessionId ?? (agent === "gemini" ? env.GEMINI_SESSION_ID : undefined);
  if (id) info.sessionId = id;
  const cwd = agent === "gemini" ? env.GEMINI_PROJECT_DIR : undefined;
  if (cwd || typeof input.cwd === "string") info.cwd = cwd ?? (input.cwd as string);
  const tmux = parseTmuxEnv(env.TMUX, env.TMUX_PANE);
  if (tmux) info.tmux = tmux;
  return info;
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}
