// The one way a driver claims a wake, shared by the daemon's drivers and `hook wait` (which run in
// different processes): under the role's wake lock, read the mail this driver would wake for, ask
// the rails, let the driver take the mail if it delivers it itself, and record the decision in
// wake.json. Two drivers can never both claim the same mail, and every refusal keeps its reason for
// `spawner status` (docs/architecture.md "A wake").
import type { RolePaths } from "../bus/layout.ts";
import type { Message } from "../bus/message.ts";
import type { Settings } from "../settings/schema.ts";
import { decideWake } from "./rails.ts";
import type { WakeDecision, WakeFacts, WakeHistory } from "./rails.ts";
import { recordWakeDecision } from "./state.ts";

export type Claimed = Extract<WakeDecision, { wake: true }>;

export interface WakeClaim {
  paths: RolePaths;
  /** Which driver claims: "tmux", "spawn", "rewake"…, recorded with the decision. */
  driver: string;
  settings: Settings;
  project: string;
  role: string;
  /** Read under the lock for the decision (src/wake/state.ts recordWakeDecision). */
  clock: () => number;
  target: WakeFacts["target"];
  /** Why the settings could not be read, if so: mail then waits, refused as "off" with this reason. */
  settingsError?: string;
  /** Keep the wake in flight until finishWake (single flight for drivers that know when a wake ends). */
  inFlight?: boolean;
  /** The unread mail this driver would wake for, read under the lock (empty: nothing new). */
  readMail(): readonly Message[];
  /** Adjusts the recorded history before the rails see it (the daemon's own run in flight). */
  history?(recorded: WakeHistory): WakeHistory;
  /**
   * Runs under the lock once the rails said yes, before the wake is recorded: a driver that delivers
   * the mail itself takes it here (so no other reader can), and answers false when there was none
   * left to take, which turns the wake into "nothing new".
   */
  take?(decision: Claimed): boolean;
}

/** Decides and records atomically; "nothing-new" is not recorded. */
export function claimWake(claim: WakeClaim): WakeDecision {
  return recordWakeDecision(claim.paths, (recorded, now) => decideClaim(claim, claim.readMail(), recorded, now), {
    driver: claim.driver,
    now: claim.clock,
    ...(claim.inFlight !== undefined && { inFlight: claim.inFlight }),
  });
}

/**
 * The claim's decision over `batch` (read under the lock) and the recorded history: the rails,
 * plus the claim's own refusals. Both stores' claims make it (the Redis one under its wake lock:
 * src/spawner/redis-source.ts).
 */
export function decideClaim(
  claim: Omit<WakeClaim, "paths" | "readMail">,
  batch: readonly Message[],
  recorded: WakeHistory,
  now: number,
): WakeDecision {
  if (batch.length === 0) return { wake: false, code: "nothing-new", reason: "no unread messages (the mail was read meanwhile)" };
  if (claim.settingsError !== undefined)
    return { wake: false, code: "off", reason: `${claim.settingsError}; no automatic wakes until it is fixed` };
  const history = claim.history ? claim.history(recorded) : recorded;
  const decision = decideWake({
    settings: claim.settings,
    project: claim.project,
    role: claim.role,
    batch,
    history,
    now,
    target: claim.target,
  });
  if (decision.wake && claim.take && !claim.take(decision)) {
    return { wake: false, code: "nothing-new", reason: "another reader took the mail first" };
  }
  return decision;
}
