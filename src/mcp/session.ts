// The session record an MCP server keeps for its Claude Code session: registered at start,
// `lastSeen` refreshed every 30 s, marked ended when the server stops.
//
// Which process is "the session": Claude Code gives its hooks CLAUDE_PID but (seen with 2.1.328)
// not its stdio MCP servers, whose parent process is claude itself. So: CLAUDE_PID when set, else
// the parent when it is claude, else — a server started by some other MCP client, or by hand —
// this server's own pid: the role is then held exactly as long as this server runs.
import { closeSync } from "node:fs";
import { describeError } from "../lib/errors.ts";
import { openForAppend } from "../lib/fs.ts";
import { ensureRoleDir } from "../bus/layout.ts";
import type { RolePaths } from "../bus/layout.ts";
import { endSession, listSessions, registerSession, sessionFromEnv, touchSession } from "../bus/sessions.ts";
import type { SessionInfo } from "../bus/sessions.ts";
import { isClaudeCommand } from "../agents/claude/process.ts";
import { processCommand } from "../lib/proc.ts";

const HEARTBEAT_MS = 30_000;

/** True when `pid` is a Claude Code process (agents/claude/process.ts says how one looks). */
export function isClaudeProcess(pid: number, env: NodeJS.ProcessEnv): boolean {
  const command = processCommand(pid);
  // Neither /proc nor ps could tell (the parent is already gone): trust the marker Claude Code sets for its children.
  if (!command) return env.CLAUDECODE === "1";
  return isClaudeCommand(command);
}

/** What this server registers (see the file comment for which pid stands for the session). */
export function sessionForServer(env: NodeJS.ProcessEnv, ppid: number): SessionInfo {
  const fallback = isClaudeProcess(ppid, env) ? ppid : process.pid;
  const info = sessionFromEnv(env, fallback) ?? { pid: process.pid };
  // MCP servers get CLAUDE_CODE_ENTRYPOINT but not CLAUDE_CODE_SESSION_ATTENDED. sdk-cli is `claude -p`,
  // unattended; cli is the TUI or a `claude --bg` session, which the server cannot tell apart, so it
  // leaves `attended` to the hooks, which are told (docs/claude-code.md "Background sessions").
  if (info.attended === undefined && env.CLAUDE_CODE_ENTRYPOINT === "sdk-cli") info.attended = false;
  if (info.pid === process.pid && !env.CLAUDE_PID) info.entrypoint ??= "mcp-server";
  info.mcpPid = process.pid;
  return info;
}

export interface SessionKeeper {
  readonly info: SessionInfo;
  stop(): void;
}

/** Registers the session (making the role and its inbox exist) and keeps it fresh until `stop`. */
export function keepSession(
  paths: RolePaths,
  info: SessionInfo,
  log: (line: string) => void,
  heartbeatMs = HEARTBEAT_MS,
  /** BRIDGE_URL naming Redis: the record there too, live for a few heartbeats by server time. */
  touchStore?: (info: SessionInfo, ttlMs: number) => Promise<void>,
): SessionKeeper {
  const remote = (): void => {
    touchStore?.(info, heartbeatMs * 4).catch((err: unknown) => log(`could not refresh the session in the store: ${describeError(err)}`));
  };
  remote();
  const register = (): void => {
    ensureRoleDir(paths);
    // The inbox exists from the first moment the role is connected (watchers and `tail -f` want a file).
    closeSync(openForAppend(paths.inbox).fd);
    registerSession(paths, info);
  };
  register();
  const timer = setInterval(() => {
    remote();
    try {
      const mine = listSessions(paths).find((s) => s.pid === info.pid);
      // Gone (forgotten) or ended by another server of the same claude process (a reconnect): claim it again.
      if (!mine || mine.endedAt) register();
      else touchSession(paths, info.pid);
    } catch (err) {
      log(`could not refresh the session record: ${describeError(err)}`);
    }
  }, heartbeatMs);
  timer.unref();
  let stopped = false;
  return {
    info,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      try {
        const mine = listSessions(paths).find((s) => s.pid === info.pid);
        // A newer server of the same claude process (e.g. after /mcp reconnect) owns the record now.
        if (mine && (mine.mcpPid === undefined || mine.mcpPid === process.pid)) endSession(paths, info.pid);
      } catch (err) {
        log(`could not mark the session ended: ${describeError(err)}`);
      }
    },
  };
}
