// Session records: which Claude Code processes hold a role, and where (tmux pane, cwd).
// One file per claude process (sessions/<pid>.json), written only by that session's own MCP
// server and hooks, so no lock is needed; liveness is judged from the claude pid itself.
import { join } from "node:path";
import { ensureDir, isRecord, parseJson, readFileIfExists, readFolder, removeQuietly, writeFileAtomic } from "../lib/fs.ts";
import { ensureRoleDir } from "./layout.ts";
import type { RolePaths } from "./layout.ts";
import { hasProcFs, isSameProcessAlive, processStartTime } from "../lib/proc.ts";
import type { StartTime } from "../lib/proc.ts";
import { madeHere, machineStamp } from "./machine.ts";
import { isoTime } from "../lib/time.ts";

export interface SessionRecord {
  /** The agent's process (CLAUDE_PID for Claude Code): its life is the session's life. */
  pid: number;
  /** Which CLI holds the role: "codex" or "gemini"; absent means Claude Code (older records too). */
  agent?: string;
  /** Its start time, to tell it from a later process given the same pid (lib/proc.ts). */
  pidStart?: StartTime;
  host: string;
  /** The machine it runs on (bus/machine.ts); absent in records of 0.2.0 and older. */
  machine?: string;
  sessionId?: string;
  /** true for the interactive TUI, false for `claude -p`. */
  attended?: boolean;
  entrypoint?: string;
  cwd?: string;
  tmux?: { pane: string; socket: string };
  /**
   * Claude Code's messaging socket (CLAUDE_CODE_MESSAGING_SOCKET), which the socket driver writes
   * the nudge to. Never its token: on Unix the socket takes a message without one
   * (docs/claude-code.md "The messaging socket").
   */
  messagingSocket?: string;
  /** Claude Code's own registry entry for this process (`<config>/sessions/<pid>.json`: status idle/busy). */
  claudeRegistry?: string;
  /** The `session-bridge mcp` process that registered the record; only it marks the record ended. */
  mcpPid?: number;
  startedAt: string;
  lastSeen: string;
  endedAt?: string;
}

export interface SessionView extends SessionRecord {
  live: boolean;
}

export type SessionInfo = Omit<SessionRecord, "pidStart" | "host" | "machine" | "startedAt" | "lastSeen" | "endedAt">;

const FORGET_DEAD_AFTER_MS = 24 * 3600 * 1000;

/**
 * What the environment Claude Code gives its hooks and MCP servers says about this session.
 * CLAUDE_PID is the claude process; without it the parent of an MCP server is claude itself.
 */
export function sessionFromEnv(env: NodeJS.ProcessEnv, fallbackPid?: number, sessionId?: string): SessionInfo | undefined {
  const pid = Number(env.CLAUDE_PID ?? fallbackPid);
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  const info: SessionInfo = { pid };
  const id = sessionId ?? env.CLAUDE_CODE_SESSION_ID;
  if (id) info.sessionId = id;
  if (env.CLAUDE_CODE_SESSION_ATTENDED === "1" || env.CLAUDE_CODE_SESSION_ATTENDED === "0") {
    info.attended = env.CLAUDE_CODE_SESSION_ATTENDED === "1";
  }
  if (env.CLAUDE_CODE_ENTRYPOINT) info.entrypoint = env.CLAUDE_CODE_ENTRYPOINT;
  if (env.CLAUDE_PROJECT_DIR) info.cwd = env.CLAUDE_PROJECT_DIR;
  const tmux = parseTmuxEnv(env.TMUX, env.TMUX_PANE);
  if (tmux) info.tmux = tmux;
  const socket = env.CLAUDE_CODE_MESSAGING_SOCKET;
  if (socket?.startsWith("/") && !socket.includes("\0")) {
    info.messagingSocket = socket;
    // Claude Code keeps its registry under its config folder (CLAUDE_CONFIG_DIR, else ~/.claude).
    const config = env.CLAUDE_CONFIG_DIR || (env.HOME ? join(env.HOME, ".claude") : undefined);
    if (config?.startsWith("/")) info.claudeRegistry = join(config, "sessions", `${pid}.json`);
  }
  return info;
}

/** TMUX is "socket,server-pid,session"; the socket path may itself contain commas. */
export function parseTmuxEnv(tmux: string | undefined, pane: string | undefined): { pane: string; socket: string } | undefined {
  if (!tmux || !pane || !/^%\d+$/.test(pane)) return undefined;
  const last = tmux.lastIndexOf(",");
  const second = last > 0 ? tmux.lastIndexOf(",", last - 1) : -1;
  if (second <= 0) return undefined;
  return { pane, socket: tmux.slice(0, second) };
}

function recordPath(paths: RolePaths, pid: number): string {
  return join(paths.sessions, `${pid}.json`);
}

/** Creates or refreshes this session's record (and the role, which makes it known). */
export function registerSession(paths: RolePaths, info: SessionInfo): SessionRecord {
  ensureRoleDir(paths);
  ensureDir(paths.sessions);
  const now = isoTime();
  const pidStart = processStartTime(info.pid);
  const previous = readRecord(recordPath(paths, info.pid));
  const same = previous && previous.pidStart === pidStart && !previous.endedAt;
  const record: SessionRecord = {
    ...(same ? previous : {}),
    ...info,
    ...(pidStart !== undefined && { pidStart }),
    ...machineStamp(),
    startedAt: same ? previous.startedAt : now,
    lastSeen: now,
  };
  delete record.endedAt;
  writeFileAtomic(recordPath(paths, info.pid), JSON.stringify(record) + "\n");
  forgetOldDead(paths);
  return record;
}

/**
 * Refreshes lastSeen of an open record; false when there is none to refresh (register instead).
 * A record seen less than `freshMs` ago is left as it is (a prompt hook need not rewrite it each time).
 */
export function touchSession(paths: RolePaths, pid: number, freshMs = 0): boolean {
  const record = readRecord(recordPath(paths, pid));
  if (!record || record.endedAt) return false;
  const now = Date.now();
  const age = now - Date.parse(record.lastSeen);
  if (age >= 0 && age < freshMs) return true;
  record.lastSeen = isoTime(now);
  writeFileAtomic(recordPath(paths, pid), JSON.stringify(record) + "\n");
  return true;
}

export function endSession(paths: RolePaths, pid: number): void {
  const record = readRecord(recordPath(paths, pid));
  if (!record) return;
  record.endedAt = isoTime();
  writeFileAtomic(recordPath(paths, pid), JSON.stringify(record) + "\n");
}

function readRecord(path: string): SessionRecord | undefined {
  const value = parseJson(readFileIfExists(path) ?? "");
  if (!isRecord(value) || typeof value.pid !== "number" || typeof value.lastSeen !== "string") return undefined;
  return value as unknown as SessionRecord;
}

/**
 * Where /proc is missing (macOS, BSD), a pid's start time comes from `ps`, when there is a `ps`;
 * Claude Code's own registry entry is one more witness there: it removes `<config>/sessions/<pid>.json`
 * when the session ends (seen on 2.1.328), so a record whose entry is gone, or names another pid, is
 * not trusted. It only ever demotes a record: an entry left by a crashed claude proves nothing.
 */
export function isLive(record: SessionRecord, procfs = hasProcFs()): boolean {
  if (record.endedAt || !madeHere(record) || !isSameProcessAlive(record.pid, record.pidStart)) return false;
  return procfs || registryAgrees(record);
}

/** True unless the record names Claude Code's registry entry and that entry is gone or names another pid. */
export function registryAgrees(record: SessionRecord): boolean {
  if (record.claudeRegistry === undefined) return true;
  let text: string | undefined;
  try {
    text = readFileIfExists(record.claudeRegistry);
  } catch {
    // Unreadable is no evidence either way: kill(0) and ps have decided.
    return true;
  }
  const entry = parseJson(text ?? "");
  return isRecord(entry) && entry.pid === record.pid;
}

/** All records of the role, live ones first, newest first within each group. */
export function listSessions(paths: RolePaths): SessionView[] {
  const views: SessionView[] = [];
  // A link in place of the folder is never read through (registerSession refuses it too).
  for (const { name } of readFolder(paths.sessions)) {
    if (!/^\d+\.json$/.test(name)) continue;
    const record = readRecord(join(paths.sessions, name));
    if (record) views.push({ ...record, live: isLive(record) });
  }
  // ISO stamps sort as plain strings; localeCompare would load ICU collation (~6 ms in every hook).
  return views.sort((a, b) => Number(b.live) - Number(a.live) || (a.lastSeen < b.lastSeen ? 1 : a.lastSeen > b.lastSeen ? -1 : 0));
}

function forgetOldDead(paths: RolePaths): void {
  const now = Date.now();
  for (const view of listSessions(paths)) {
    const age = now - Date.parse(view.lastSeen);
    // A record from the future (clock jumped back) is judged by liveness alone, never kept forever.
    if (!view.live && (Math.abs(age) > FORGET_DEAD_AFTER_MS || Number.isNaN(age))) removeQuietly(recordPath(paths, view.pid));
  }
}

/** "tmux pane %3 (socket /tmp/tmux-0/default)", "headless claude -p", … for humans and tools. */
export function describeWhere(record: SessionRecord): string {
  if (record.agent && record.agent !== "claude") {
    const at = record.tmux ? `tmux pane ${record.tmux.pane} (socket ${record.tmux.socket})` : `pid ${record.pid}`;
    return `${record.agent} ${at}${record.cwd ? ` in ${record.cwd}` : ""}`;
  }
  if (record.tmux) return `tmux pane ${record.tmux.pane} (socket ${record.tmux.socket})`;
  if (record.entrypoint === "mcp-server") return `MCP server pid ${record.pid} (not under Claude Code)`;
  // `claude --bg` is unattended like `claude -p`, but an interactive session (entrypoint cli).
  if (record.attended === false && record.entrypoint === "cli") return `background claude --bg session (pid ${record.pid})`;
  if (record.attended === false) return `headless claude -p (pid ${record.pid})`;
  return `claude pid ${record.pid}${record.cwd ? ` in ${record.cwd}` : ""}`;
}
