// Where each driver would deliver a wake, as far as files tell: the spawn driver needs the role's
// cwd to be a folder; the tmux driver needs a pane, configured (tmuxTarget) or registered by the
// role's live session; the socket driver needs a live session that recorded Claude Code's messaging
// socket, and that the socket still exists. The tmux driver then proves the pane with tmux itself before typing
// (src/spawner/drivers/tmux.ts); `send`'s forecast (./forecast.ts) stops at what files say.
import { statSync } from "node:fs";
import { describeError } from "../lib/errors.ts";
import type { RolePaths } from "../bus/layout.ts";
import { describeWhere, listSessions } from "../bus/sessions.ts";
import type { SessionView } from "../bus/sessions.ts";
import type { EffectiveRole } from "../settings/schema.ts";

export function spawnTargetCheck(role: EffectiveRole): { ok: true } | { ok: false; reason: string } {
  const fix = `session-bridge spawner set ${role.project} ${role.role} cwd=/path/to/its/folder`;
  if (role.cwd === undefined)
    return { ok: false, reason: `no cwd for ${role.project}/${role.role}, which the spawn driver runs the role's CLI in; set one: ${fix}` };
  try {
    if (!statSync(role.cwd).isDirectory())
      return { ok: false, reason: `cwd ${role.cwd} of ${role.project}/${role.role} is not a folder; ${fix}` };
  } catch (err) {
    return { ok: false, reason: `cwd ${role.cwd} of ${role.project}/${role.role} cannot be used (${describeError(err)}); ${fix}` };
  }
  return { ok: true };
}

export type TmuxCandidate =
  | { ok: true; socket: string | undefined; pane: string; live: SessionView[] }
  | { ok: false; reason: string; live: SessionView[] };

/**
 * The pane the tmux driver would check and type into, before asking tmux about it. `sessions`: the
 * role's sessions when its store is not the role folder (Redis: those of this machine).
 */
export function tmuxCandidate(paths: RolePaths, role: EffectiveRole, sessions = listSessions(paths)): TmuxCandidate {
  const name = `${role.project}/${role.role}`;
  const live = sessions.filter((s) => s.live);
  const inTmux = live.filter((s) => s.tmux !== undefined);
  // A configured target names the pane; the server is the one the role's session registered.
  if (role.tmuxTarget !== undefined) return { ok: true, socket: inTmux[0]?.tmux?.socket, pane: role.tmuxTarget, live };
  const session = inTmux[0];
  if (!session?.tmux) {
    const reason =
      live.length > 0
        ? `the live session of ${name} (${live.map(describeWhere).join("; ")}) is not running inside tmux; start it in a tmux pane, set tmuxTarget, or use the socket or spawn driver`
        : `no live agent session holds ${name}; start one in a tmux pane: BRIDGE_PROJECT=${role.project} BRIDGE_ROLE=${role.role} claude (or codex, gemini)`;
    return { ok: false, reason, live };
  }
  return { ok: true, socket: session.tmux.socket, pane: session.tmux.pane, live };
}

export type SocketCandidate = { ok: true; socket: string; session: SessionView } | { ok: false; reason: string };

/** The messaging socket the socket driver would write to: the newest live session of the role that recorded one. */
export function socketCandidate(paths: RolePaths, role: EffectiveRole, sessions = listSessions(paths)): SocketCandidate {
  const name = `${role.project}/${role.role}`;
  const live = sessions.filter((s) => s.live);
  const session = live.find((s) => s.messagingSocket !== undefined);
  if (!session?.messagingSocket) {
    const reason =
      live.length > 0
        ? `the live session of ${name} (${live.map(describeWhere).join("; ")}) recorded no Claude Code messaging socket (Claude Code before 2.1.224, or not Claude Code)`
        : `no live Claude Code session holds ${name}; start one: BRIDGE_PROJECT=${role.project} BRIDGE_ROLE=${role.role} claude`;
    return { ok: false, reason };
  }
  const socket = session.messagingSocket;
  try {
    if (!statSync(socket).isSocket()) return { ok: false, reason: `${socket} (messaging socket of ${name}) is not a socket` };
  } catch (err) {
    return { ok: false, reason: `the messaging socket ${socket} of ${name} (pid ${session.pid}) is gone (${describeError(err)})` };
  }
  return { ok: true, socket, session };
}
