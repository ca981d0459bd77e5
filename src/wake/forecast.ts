// What will happen to a message just sent, per recipient: which driver will wake the role, when,
// or why none will. `send` and `bridge_send` both answer with it, so "it waits for the next
// prompt" is said only when that is the truth. It asks the same rails every driver asks
// (./rails.ts decideWake, with the role's recorded wakes) for this one message, with the driver
// that would act: the role's rewake waiter if one is alive, else the daemon (if it runs) with
// the role's driver and the target files show (./targets.ts). Effects: none; it reads files.
import type { Message } from "../bus/message.ts";
import type { RolePaths } from "../bus/layout.ts";
import { describeWhere } from "../bus/sessions.ts";
import { isRecord, parseJson, readFileIfExists } from "../lib/fs.ts";
import { isSameProcessAlive } from "../lib/proc.ts";
import { runLabel } from "../agents/cli.ts";
import { effectiveRole } from "../settings/schema.ts";
import type { Settings } from "../settings/schema.ts";
import { sessionsNewestFirst, spawnAgent } from "../settings/spawn-agent.ts";
import { readDaemonHolder } from "./daemon-lock.ts";
import { decideWake } from "./rails.ts";
import type { WakeFacts } from "./rails.ts";
import { readWakeState } from "./state.ts";
import { socketCandidate, spawnTargetCheck, tmuxCandidate } from "./targets.ts";
import { isoTime } from "../lib/time.ts";

export interface WakeForecast {
  /** True when a driver will wake the role for this message (now, or once a cooldown/rate/run ends). */
  woken: boolean;
  /** "rewake", "tmux", "spawn", or none when nothing will act. */
  driver?: string;
  /** One line: who will wake it and how, or why nobody will and what the mail waits for. */
  text: string;
}

interface Waiter {
  pid: number;
  sessionId?: string;
}

/** The role's rewake waiter (`hook wait`), when its process is alive. */
export function liveWaiter(paths: RolePaths): Waiter | undefined {
  const value = parseJson(readFileIfExists(paths.waiter) ?? "");
  if (!isRecord(value) || typeof value.pid !== "number") return undefined;
  const start = typeof value.start === "number" ? value.start : undefined;
  if (!isSameProcessAlive(value.pid, start)) return undefined;
  return { pid: value.pid, ...(typeof value.sessionId === "string" && { sessionId: value.sessionId }) };
}

export function forecastWake(o: {
  root: string;
  paths: RolePaths;
  settings: Settings;
  /** Why the settings could not be read: then nothing is woken (src/wake/claim.ts). */
  settingsError?: string;
  message: Message;
  now?: number;
}): WakeForecast {
  const { paths, settings, message } = o;
  const waits = "it waits for that role's next prompt";
  if (o.settingsError !== undefined) return { woken: false, text: `not woken: ${o.settingsError}; ${waits}` };
  const role = effectiveRole(settings, paths.project, paths.role);
  let driver: string | undefined;
  let who = "";
  let target: WakeFacts["target"];
  const waiter = liveWaiter(paths);
  const daemon = readDaemonHolder(o.root);
  if (waiter) {
    driver = "rewake";
    who = `its rewake waiter (pid ${waiter.pid}${waiter.sessionId ? `, claude session ${waiter.sessionId}` : ""})`;
    target = { ok: true };
  } else if (daemon.running) {
    driver = role.driver;
    const by = `the daemon (pid ${daemon.holder?.pid})`;
    // The socket driver hands a role without a usable socket to its fallback, if it has one.
    const socket = role.driver === "socket" ? socketCandidate(paths, role) : undefined;
    const kind = socket && !socket.ok && role.fallback !== "none" ? role.fallback : role.driver;
    const instead = kind !== role.driver ? " (no usable messaging socket: fallback)" : "";
    if (kind === "socket" && socket) {
      target = socket.ok ? { ok: true } : { ok: false, reason: socket.reason };
      who = socket.ok ? `${by} through the messaging socket of claude pid ${socket.session.pid}` : by;
    } else if (kind === "spawn") {
      target = spawnTargetCheck(role);
      // The CLI the spawn driver would pick (src/spawner/drivers/spawn-target.ts asks the same).
      const { agent } = spawnAgent(role, sessionsNewestFirst(paths));
      who = `${by} with ${runLabel(agent)} in ${role.cwd}${instead}`;
    } else {
      const pane = tmuxCandidate(paths, role);
      target = pane.ok ? { ok: true } : { ok: false, reason: pane.reason };
      const session = pane.ok ? pane.live.find((s) => s.tmux?.pane === pane.pane) : undefined;
      who = pane.ok ? `${by} by a nudge in ${session ? describeWhere(session) : `tmux pane ${pane.pane}`}${instead}` : by;
    }
  } else {
    target = {
      ok: false,
      reason:
        "no driver is running for it: the wake daemon is not running (start it: `session-bridge spawner run`) and no rewake waiter holds the role (`session-bridge install --wake rewake`)",
    };
  }
  const now = o.now ?? Date.now();
  const history = readWakeState(paths);
  // A driver can be faster than this forecast: the daemon hears the append and claims the wake
  // before `send` gets here. That wake is this message's, not "a wake still running" before it.
  const claimed = history.lastWake?.ids.includes(message.id) ? history.lastWake : undefined;
  if (claimed) return { woken: true, driver: driver ?? claimed.driver, text: `${who || `the ${claimed.driver} driver`} will wake it now` };
  const decision = decideWake({
    settings,
    project: paths.project,
    role: paths.role,
    batch: [message],
    history,
    now,
    target,
  });
  if (decision.wake) return { woken: true, ...(driver && { driver }), text: `${who} will wake it now` };
  switch (decision.code) {
    case "busy":
    case "cooldown":
    case "rate": {
      // The rails look at the target last: a deferred wake with nowhere to go is no wake.
      if (!target.ok) return { woken: false, ...(driver && { driver }), text: `not woken automatically: ${target.reason}; ${waits}` };
      const at = decision.retryAt !== undefined ? ` (about ${isoTime(decision.retryAt)})` : "";
      return { woken: true, ...(driver && { driver }), text: `${who} will wake it later${at}: ${decision.reason}` };
    }
    default:
      return { woken: false, ...(driver && { driver }), text: `not woken automatically: ${decision.reason}; ${waits}` };
  }
}
