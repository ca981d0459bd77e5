// Per-role wake bookkeeping shared by every driver (the daemon and `hook wait` run in different
// processes): recent wakes for the rate limit and cooldown, the wake in flight, and the last
// refusal with its reason for `spawner status`. Decisions are made under the role's wake lock,
// so two drivers can never both claim the same wake.
import { join } from "node:path";
import { isRecord, parseJson, readFileIfExists, writeFileAtomic } from "../lib/fs.ts";
import { ensureRoleDir } from "../bus/layout.ts";
import type { RolePaths } from "../bus/layout.ts";
import { withLock } from "../bus/lock.ts";
import { withWake } from "./rails.ts";
import type { RefusalCode, WakeDecision, WakeHistory } from "./rails.ts";
import { isoTime } from "../lib/time.ts";

export interface WakeRecord {
  at: string;
  driver: string;
  chain: string;
  hop: number;
  ids: string[];
  detail?: string;
}

export interface RefusalRecord {
  at: string;
  driver: string;
  code: RefusalCode;
  reason: string;
  retryAt?: string;
}

export interface WakeState extends WakeHistory {
  lastWake?: WakeRecord;
  lastRefusal?: RefusalRecord;
}

/** The lock every wake decision of the role is made under (the daemon's and `hook wait`'s alike). */
export function wakeLockPath(paths: RolePaths): string {
  return join(paths.dir, "wake.lock");
}

export function readWakeState(paths: RolePaths): WakeState {
  return parseWakeState(readFileIfExists(paths.wake) ?? "");
}

/** A role's wake state from its JSON (wake.json, or the Redis store's copy); anything unreadable is no history. */
export function parseWakeState(text: string): WakeState {
  const value = parseJson(text);
  if (!isRecord(value)) return { recent: [] };
  const state = value as unknown as WakeState;
  return { ...state, recent: Array.isArray(state.recent) ? state.recent.filter((t) => typeof t === "number") : [] };
}

function writeWakeState(paths: RolePaths, state: WakeState): void {
  writeFileAtomic(paths.wake, JSON.stringify(state) + "\n");
}

export interface RecordOptions {
  driver: string;
  /** Mark the wake in flight until finishWake (single-flight for drivers that know when a wake ends). */
  inFlight?: boolean;
  /**
   * The decision time: a clock read under the lock, so a wake another process recorded while this
   * one waited for the lock is in the past, not the future (the rails ignore a future stamp, which
   * would let two drivers wake one role inside its cooldown); or a fixed time (tests, demos).
   */
  now?: number | (() => number);
}

/**
 * Decides and records atomically under the wake lock: `decide` sees the recorded history; a wake is
 * recorded (rate limit, cooldown, in flight), a refusal with its reason; "nothing-new" is not.
 * Drivers go through wake/claim.ts; this is the recording underneath (and how tests plant state).
 */
export function recordWakeDecision(
  paths: RolePaths,
  decide: (history: WakeHistory, now: number) => WakeDecision,
  options: RecordOptions,
): WakeDecision {
  ensureRoleDir(paths);
  return withLock(wakeLockPath(paths), () => {
    const state = readWakeState(paths);
    const now = typeof options.now === "function" ? options.now() : (options.now ?? Date.now());
    const decision = decide(state, now);
    const next = stateAfter(state, decision, now, options);
    if (next) writeWakeState(paths, next);
    return decision;
  });
}

/**
 * The state to record for a decision made at `now` (undefined: nothing to record), whichever store
 * keeps it: a wake (rate limit, cooldown, in flight), or a refusal with its reason.
 */
export function stateAfter(state: WakeState, decision: WakeDecision, now: number, options: RecordOptions): WakeState | undefined {
  if (decision.wake) {
    const next: WakeState = {
      ...state,
      ...withWake(state, now),
      lastWake: { at: isoTime(now), driver: options.driver, chain: decision.chain, hop: decision.hop, ids: decision.ids },
    };
    if (options.inFlight) next.inFlightSince = now;
    return next;
  }
  if (decision.code === "nothing-new") return undefined;
  const refusal: RefusalRecord = {
    at: isoTime(now),
    driver: options.driver,
    code: decision.code,
    reason: decision.reason,
  };
  if (decision.retryAt !== undefined) refusal.retryAt = isoTime(decision.retryAt);
  return { ...state, lastRefusal: refusal };
}

/** Ends the in-flight mark set by a claim, adding a note (e.g. the run's exit) to the last wake. */
export function finishWake(paths: RolePaths, detail?: string): void {
  withLock(wakeLockPath(paths), () => writeWakeState(paths, finishedState(readWakeState(paths), detail)));
}

/** The state once the wake in flight has ended, with `detail` noted on the last wake. */
export function finishedState(state: WakeState, detail?: string): WakeState {
  const next: WakeState = { ...state };
  delete next.inFlightSince;
  if (detail && next.lastWake) next.lastWake = { ...next.lastWake, detail };
  return next;
}
