// Where the wake daemon finds mail and keeps a role's wake bookkeeping: the one loop
// (./daemon.ts) over a source. The file source is the bus folder as the daemon always read it
// (inbox files and fs watches, its positions in state.json, wake.json under the role's wake lock);
// the Redis source (./redis-source.ts) reads the store, listens on its wake channel and keeps the
// bookkeeping in Redis so that it holds across machines (docs/architecture.md "A wake").
import { statSync } from "node:fs";
import { listProjects, listRoles } from "../bus.ts";
import { rolePaths } from "../bus/layout.ts";
import type { RolePaths } from "../bus/layout.ts";
import type { Message } from "../bus/message.ts";
import { watchInboxes } from "../bus/watch.ts";
import type { InboxWatch } from "../bus/watch.ts";
import { isErrno } from "../lib/errors.ts";
import type { EffectiveRole } from "../settings/schema.ts";
import { endPosition, readBatch } from "../wake/batch.ts";
import type { Position } from "../wake/batch.ts";
import { claimWake } from "../wake/claim.ts";
import type { WakeClaim } from "../wake/claim.ts";
import type { WakeDecision, WakeHistory } from "../wake/rails.ts";
import { readWakeState } from "../wake/state.ts";
import { fileSite } from "./drivers/index.ts";
import type { WakeSite } from "./drivers/index.ts";
import type { DaemonState, Logger } from "./state.ts";

export interface RoleRef {
  key: string;
  project: string;
  role: string;
}

export interface SourceBatch {
  /** Unread messages the daemon has not looked at yet, oldest first. */
  messages: Message[];
  /** Unparsable entries inside the batch, passed over. */
  skipped: number;
  /** Names where the batch ends: one log line per refusal per batch. */
  mark: string;
}

/** A claim as the daemon asks it; the source reads the mail under its own lock. */
export type SourceClaim = Omit<WakeClaim, "paths" | "readMail">;

export interface SourceHooks {
  /** New mail may have arrived for the role. */
  role(project: string, role: string): void;
  /** Look at every role again (pub/sub was down: what was sent meanwhile was not heard). */
  rescan(): void;
  log: Logger;
}

export interface WakeSource<B extends SourceBatch = SourceBatch> {
  readonly kind: "file" | "redis";
  /** The root folder, or the store's URL without its password. */
  readonly where: string;
  /** The site of a role the daemon has no batch for (a run of an earlier daemon ended); the role folder when unset. */
  siteOf?(project: string, role: string): WakeSite;
  /** At start, once the daemon state is loaded: how many unread messages are passed over (without --replay). */
  begin(context: { state: DaemonState; save(): void; replay: boolean }): number;
  /** Starts (or re-arms, from every rescan) what tells the daemon about new mail. */
  arm(hooks: SourceHooks): void;
  /** Every role, and whether it changed since its batch was last read. */
  scan(): Promise<{ project: string; role: string; changed: boolean }[]>;
  /** The role's batch; `look` marks it as seen (the first read of a handling). */
  batch(r: RoleRef, look?: boolean): Promise<B>;
  /** The batch was handled (nothing new, a wake, a final refusal): start after it next time. */
  settle(r: RoleRef, batch: B): void;
  /** Where the drivers find the role's facts; undefined when the role is another machine's to wake. */
  site(r: RoleRef, role: EffectiveRole): Promise<WakeSite | undefined>;
  /** The recorded history (read with `batch` where the source can). */
  history(r: RoleRef, batch: B): Promise<WakeHistory>;
  /** Reads the mail again under the role's wake lock, decides (the rails) and records; `final` says a refusal ends the batch. */
  claim(
    r: RoleRef,
    claim: SourceClaim,
    batch: B,
    final: (decision: WakeDecision) => boolean,
  ): Promise<{ decision: WakeDecision; batch: B }>;
  close(): Promise<void>;
}

interface FileBatch extends SourceBatch {
  end: Position;
  size: number;
}

/** The bus folder under `root`, read as the daemon always has. */
export function fileSource(root: string, log: Logger): WakeSource<FileBatch> {
  let state: DaemonState = { positions: {}, runs: {}, lastRuns: {} };
  let save = (): void => {};
  let inboxes: InboxWatch | undefined;
  const seen = new Map<string, { ino: number; size: number }>();
  const pathsOf = (r: RoleRef): RolePaths => rolePaths(root, r.project, r.role);
  const list = (): [string, string][] =>
    listProjects(root).flatMap((project) => listRoles(root, project).map((role): [string, string] => [project, role]));
  const read = (r: RoleRef): FileBatch => {
    const batch = readBatch(pathsOf(r), state.positions[r.key]);
    return { ...batch, mark: `${batch.end.ino}:${batch.end.offset}` };
  };

  return {
    kind: "file",
    where: root,
    begin(context) {
      state = context.state;
      save = context.save;
      let skipped = 0;
      if (!context.replay)
        for (const [project, role] of list()) {
          const paths = rolePaths(root, project, role);
          const key = `${project}/${role}`;
          skipped += readBatch(paths, state.positions[key]).messages.length;
          state.positions[key] = endPosition(paths).position;
        }
      return skipped;
    },
    arm(hooks) {
      inboxes ??= watchInboxes(root, {
        role: hooks.role,
        error: (err) => log({ event: "watch-error", msg: `a folder watch failed (${err.message}); the rescan re-arms it` }),
      });
      inboxes.sync();
    },
    async scan() {
      return list().map(([project, role]) => {
        const inbox = statInbox(rolePaths(root, project, role));
        const was = seen.get(`${project}/${role}`);
        return { project, role, changed: was?.ino !== inbox.ino || was.size !== inbox.size };
      });
    },
    async batch(r, look = false) {
      const batch = read(r);
      if (look) seen.set(r.key, { ino: batch.end.ino, size: batch.size });
      return batch;
    },
    settle(r, batch) {
      const old = state.positions[r.key];
      if (old?.ino === batch.end.ino && old.offset === batch.end.offset) return;
      state.positions[r.key] = batch.end;
      save();
    },
    async site(r) {
      return fileSite(pathsOf(r));
    },
    async history(r) {
      return readWakeState(pathsOf(r));
    },
    async claim(r, claim, batch) {
      let current = batch;
      // Read again under the wake lock: `hook wait` consumes inside its own claim, so mail a
      // rewake already delivered is gone here and never wakes the session a second time.
      const decision = claimWake({ ...claim, paths: pathsOf(r), readMail: () => (current = read(r)).messages });
      return { decision, batch: current };
    },
    async close() {
      inboxes?.close();
    },
  };
}

function statInbox(paths: RolePaths): { ino: number; size: number } {
  try {
    const st = statSync(paths.inbox);
    return { ino: st.ino, size: st.size };
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return { ino: -1, size: 0 };
    throw err;
  }
}
