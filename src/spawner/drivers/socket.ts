// The socket driver: writes the fixed nudge to the messaging socket Claude Code opens for every
// session (CLAUDE_CODE_MESSAGING_SOCKET), which makes an idle session start a turn with nobody
// typing and no tmux at all; that turn runs UserPromptSubmit, so `hook recv` gives it the mail.
// Seen on Claude Code 2.1.328 (docs/claude-code.md "The messaging socket"):
//   - one line `{"type":"user","message":{"role":"user","content":TEXT}}` is enough on Linux: no
//     auth line (the socket is 0600 in a 0700 folder), so the token is never read nor stored;
//   - written to a *busy* session it is not a turn of its own: it rides along with the next tool
//     result as a system entry, no UserPromptSubmit runs and the mail stays unread. So a busy
//     session (Claude Code's registry says so) is never written to;
//   - a stale socket file of a dead claude refuses the connection;
//   - a message identical to the previous one from the same (unnamed) sender is dropped ("Dropped a
//     peer message from unknown: identical to the previous message from this sender."), so each
//     nudge carries the time of its wake and how many messages it is for (never a message body).
// The socket is only ever the one the role's own live session recorded, checked against Claude
// Code's registry entry for that pid when there is one. Success is the mail being taken (or the
// registry turning busy); anything else is reported, and the caller falls back.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import type { RolePaths } from "../../bus/layout.ts";
import type { SessionView } from "../../bus/sessions.ts";
import { isRecord, parseJson } from "../../lib/fs.ts";
import type { EffectiveRole } from "../../settings/schema.ts";
import { socketCandidate } from "../../wake/targets.ts";
import { isoTime } from "../../lib/time.ts";

export interface SocketTarget {
  socket: string;
  session: SessionView;
  /** Claude Code's registry entry for the session's pid, when the session recorded where it is. */
  registry?: string;
  where: string;
}

export type SocketTargetCheck = { ok: true; target: SocketTarget } | { ok: false; reason: string };

/** The part of Claude Code's `<config>/sessions/<pid>.json` the driver reads (2.1.328). */
export interface RegistryEntry {
  pid?: unknown;
  status?: unknown;
  messagingSocketPath?: unknown;
  procStart?: unknown;
  statusUpdatedAt?: unknown;
}

export function readRegistry(path: string | undefined): RegistryEntry | undefined {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const value = parseJson(text);
  return isRecord(value) ? (value as RegistryEntry) : undefined;
}

/** `sessions`: the role's sessions when its store is not the role folder (Redis: those of this machine). */
export function resolveSocketTarget(
  paths: RolePaths,
  role: EffectiveRole,
  platform = process.platform,
  sessions?: SessionView[],
): SocketTargetCheck {
  const name = `${role.project}/${role.role}`;
  if (platform === "win32") return { ok: false, reason: "the socket driver needs a Unix socket; on Windows use the tmux or spawn driver" };
  const found = socketCandidate(paths, role, sessions);
  if (!found.ok) return found;
  const { socket, session } = found;
  const where = `messaging socket ${socket} (claude pid ${session.pid})`;
  const entry = readRegistry(session.claudeRegistry);
  // No entry (a config folder we were not told about, or a Claude Code without one): the live
  // record and the socket file are what we have. An entry that disagrees wins: never write.
  if (entry) {
    if (entry.pid !== session.pid || entry.messagingSocketPath !== socket) {
      return {
        ok: false,
        reason: `Claude Code's registry ${session.claudeRegistry} names pid ${String(entry.pid)} with socket ${String(entry.messagingSocketPath)}, not the session of ${name} (pid ${session.pid}, ${socket}); not writing to it`,
      };
    }
    // procStart is the /proc start time (clock ticks), the kind our records hold where /proc is.
    if (typeof session.pidStart === "number" && typeof entry.procStart === "string" && entry.procStart !== String(session.pidStart)) {
      return {
        ok: false,
        reason: `Claude Code's registry ${session.claudeRegistry} is of an earlier process with pid ${session.pid}; not writing to ${socket}`,
      };
    }
    if (entry.status === "busy") {
      return {
        ok: false,
        reason: `the session of ${name} (pid ${session.pid}) is busy (Claude Code's registry says so); a nudge written now would not start a turn of its own, so it waits until the session is idle`,
      };
    }
  }
  return { ok: true, target: { socket, session, ...(session.claudeRegistry && { registry: session.claudeRegistry }), where } };
}

export interface SocketDeps {
  sleep(ms: number): Promise<void>;
  /** Overrides CONFIRM_MS (tests). */
  confirmMs?: number;
  /** Overrides WRITE_TIMEOUT_MS (tests). */
  writeTimeoutMs?: number;
}

export interface SocketNudgeOutcome {
  ok: boolean;
  detail: string;
}

/** How long to watch for the woken turn (it started 0.5–1.4 s after the write on 2.1.328, in tmux, unloaded). */
export const CONFIRM_MS = 15_000;
export const WRITE_TIMEOUT_MS = 3000;
const POLL_MS = 50;

/** The one line written: a user message holding the fixed nudge (never a message body), made unique per wake. */
export function nudgeLine(text: string, count: number, at: Date): string {
  const content = `${text} (${count} message${count === 1 ? "" : "s"}, wake at ${isoTime(at.getTime())})`;
  return JSON.stringify({ type: "user", message: { role: "user", content } }) + "\n";
}

export async function nudgeSocket(
  target: SocketTarget,
  text: string,
  count: number,
  deps: SocketDeps & { taken(): boolean | Promise<boolean> },
): Promise<SocketNudgeOutcome> {
  const sentAt = Date.now();
  const line = nudgeLine(text, count, new Date(sentAt));
  try {
    await writeLine(target.socket, line, deps.writeTimeoutMs ?? WRITE_TIMEOUT_MS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ECONNREFUSED" || code === "ENOENT" ? " (the session is gone)" : "";
    return { ok: false, detail: `writing the nudge to ${target.where} failed: ${(err as Error).message}${why}` };
  }
  const deadline = performance.now() + (deps.confirmMs ?? CONFIRM_MS);
  for (;;) {
    if (await deps.taken()) return { ok: true, detail: `nudged through ${target.where}: the session took the mail` };
    if (performance.now() >= deadline) break;
    await deps.sleep(POLL_MS);
  }
  const entry = readRegistry(target.registry);
  const since = typeof entry?.statusUpdatedAt === "number" ? entry.statusUpdatedAt : undefined;
  if (entry?.status === "busy" && since !== undefined && since >= sentAt) {
    return {
      ok: true,
      detail: `nudged through ${target.where}: a turn started (Claude Code's registry says busy), the mail is not read yet`,
    };
  }
  const seconds = Math.round((deps.confirmMs ?? CONFIRM_MS) / 1000);
  return {
    ok: false,
    detail: `wrote the nudge to ${target.where}, but no new turn took the mail within ${seconds} s (is crossSessionInbound "refuse" or "hold" in its settings?)`,
  };
}

function writeLine(path: string, line: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = connect(path);
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    client.on("connect", () => {
      client.end(line, () => {
        clearTimeout(timer);
        // Flushed to the kernel: done. Claude Code closes its end once it has read the line.
        setTimeout(() => client.destroy(), 1000).unref();
        resolve();
      });
    });
    // Claude Code sends nothing back; reading keeps the socket from stalling if it ever does.
    client.resume();
  });
}
