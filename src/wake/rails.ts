// The rails (docs/architecture.md "A wake"): may this role be woken automatically now? One pure function
// shared by every driver — the daemon's tmux and spawn drivers and the `hook wait` rewake —
// so there is exactly one copy of the rules. Effects (reading state, typing, spawning) live
// with the callers; everything here is data in, decision out.
import type { Message } from "../bus/message.ts";
import { wakerOf } from "./chain.ts";
import { effectiveRole } from "../settings/schema.ts";
import type { Settings } from "../settings/schema.ts";

export interface WakeHistory {
  /** Epoch ms of recent automatic wakes of this role (any driver). */
  recent: number[];
  lastWakeAt?: number;
  /** A wake still running (a spawned run, or a woken turn not yet done), if the driver tracks it. */
  inFlightSince?: number;
}

export type RefusalCode = "nothing-new" | "off" | "manual" | "hops" | "busy" | "cooldown" | "rate" | "no-target";

export type WakeDecision =
  | { wake: true; chain: string; hop: number; ids: string[] }
  | { wake: false; code: RefusalCode; reason: string; retryAt?: number };

export interface WakeFacts {
  settings: Settings;
  project: string;
  role: string;
  /** Unread messages that arrived since the last wake for this role. */
  batch: readonly Message[];
  history: WakeHistory;
  now: number;
  /** Whether the driver has somewhere to deliver the wake (a live pane, a cwd…), and if not why. */
  target: { ok: true } | { ok: false; reason: string };
}

const MINUTE_MS = 60_000;
/** A wake marked in flight longer than this is assumed lost (its driver died): not busy any more. */
export const IN_FLIGHT_LIMIT_MS = 60 * MINUTE_MS;

export function decideWake(facts: WakeFacts): WakeDecision {
  const { settings, project, role, batch, history, now } = facts;
  if (batch.length === 0) return refuse("nothing-new", "no unread messages");
  const mode = effectiveRole(settings, project, role);
  if (!mode.auto) return refuse(settings.enabled ? "manual" : "off", mode.why);

  const waker = wakerOf(batch, settings.maxHops);
  if (!waker) {
    const top = batch.reduce((a, b) => (b.hop > a.hop ? b : a));
    return refuse(
      "hops",
      `loop guard: chain ${top.chain} reached hop ${top.hop} (maxHops ${settings.maxHops}); the messages wait for a prompt typed by a human, which starts a new chain`,
    );
  }
  // A mark older than the limit is lost (its driver died). A mark more than a minute in the future
  // was written before the clock went back: like a rate stamp from the future it is ignored, so a
  // clock jump can never hold the role for as long as the jump.
  const inFlight = history.inFlightSince;
  if (inFlight !== undefined && now - inFlight < IN_FLIGHT_LIMIT_MS && inFlight - now < MINUTE_MS) {
    return refuse(
      "busy",
      "a wake for this role is still running; the new mail gets one follow-up when it ends",
      inFlight + IN_FLIGHT_LIMIT_MS,
    );
  }
  const cooldownMs = settings.cooldownSeconds * 1000;
  if (history.lastWakeAt !== undefined && now >= history.lastWakeAt && now - history.lastWakeAt < cooldownMs) {
    return refuse(
      "cooldown",
      `cooldown: last wake ${Math.round((now - history.lastWakeAt) / 1000)} s ago (cooldownSeconds ${settings.cooldownSeconds})`,
      history.lastWakeAt + cooldownMs,
    );
  }
  // A stamp more than a minute in the future (the clock went back) is ignored, never counted forever.
  const lastMinute = history.recent.filter((t) => Math.abs(now - t) < MINUTE_MS).sort((a, b) => a - b);
  if (lastMinute.length >= settings.rateLimitPerMinute) {
    // The count drops below the limit once this stamp leaves the window (|now - t| reaches a
    // minute), which is exact for stamps from the past and from a slightly-future clock alike.
    const freeing = lastMinute[lastMinute.length - settings.rateLimitPerMinute]!;
    return refuse(
      "rate",
      `rate limit: ${lastMinute.length} wakes in the last minute (rateLimitPerMinute ${settings.rateLimitPerMinute})`,
      freeing + MINUTE_MS,
    );
  }
  if (!facts.target.ok) return refuse("no-target", facts.target.reason);

  return { wake: true, chain: waker.chain, hop: waker.hop, ids: batch.map((m) => m.id) };
}

function refuse(code: RefusalCode, reason: string, retryAt?: number): WakeDecision {
  return retryAt === undefined ? { wake: false, code, reason } : { wake: false, code, reason, retryAt };
}

/** The recent-wake list after a wake at `now`, pruned to the last minute. */
export function withWake(history: WakeHistory, now: number): WakeHistory {
  return { ...history, recent: [...history.recent.filter((t) => Math.abs(now - t) < MINUTE_MS), now], lastWakeAt: now };
}
