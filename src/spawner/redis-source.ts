// The wake daemon on a Redis store (BRIDGE_URL=redis://…): one daemon per machine, each waking only
// the roles of its own machine, with the bookkeeping the rails need in Redis so that they hold
// across machines (docs/architecture.md "A wake", README "Across machines").
//   - New mail: the send script PUBLISHes each recipient role on `sb:{P}:wake`; the daemon
//     subscribes on a connection of its own, and rescans every role of its projects on every
//     (re)connect, since pub/sub drops what is sent while it is away, and on its periodic rescan.
//   - What is new for a role: the inbox entries after its consumer cursor, after `covered` (how far
//     earlier wakes, by any daemon, covered it) and after this daemon's own floor (without
//     --replay, where the inbox ended when it started).
//   - The claim: the role's wake lock in Redis (SET NX PX, released compare-and-delete with the
//     record), under which the batch is read again, the rails decide (src/wake/claim.ts
//     decideClaim, the same decision as on files) and the wake state and `covered` are written. Two
//     daemons on two machines thus never both wake a role for the same mail.
//   - Whose role: a live session of the role recorded by this machine (tmux, socket), or a cwd
//     this machine's settings give it that is a folder here (spawn). Another machine's role is
//     left alone and nothing is recorded: its own daemon decides.
import { rolePaths } from "../bus/layout.ts";
import { madeHere } from "../bus/machine.ts";
import type { SessionView } from "../bus/sessions.ts";
import type { EffectiveRole } from "../settings/schema.ts";
import type { WakeBook, WakeRead } from "../store/redis/index.ts";
import type { RedisUrl } from "../store/url.ts";
import { decideClaim } from "../wake/claim.ts";
import { finishedState, parseWakeState, stateAfter } from "../wake/state.ts";
import type { WakeState } from "../wake/state.ts";
import { spawnTargetCheck } from "../wake/targets.ts";
import type { WakeSite } from "./drivers/index.ts";
import type { RoleRef, SourceBatch, SourceHooks, WakeSource } from "./source.ts";
import type { Logger } from "./state.ts";

/** How long one wake decision may hold the role's lock; a daemon that dies holding it delays the role this long. */
export const WAKE_LOCK_MS = 10_000;
/** How long a decision waits for another daemon's: past a dead holder's expiry. */
const WAKE_LOCK_WAIT_MS = WAKE_LOCK_MS + 5000;
/** The most entries one batch reads (the store refuses sends past BRIDGE_REDIS_MAX_UNREAD, 10,000 by default). */
const MAX_BATCH = 10_000;

interface RedisBatch extends SourceBatch {
  /** The wake state as read with the batch (JSON, "" when none). */
  state: string;
  /** The last entry of the batch, or where reading started when it is empty. */
  through: string;
  /** The last entry of the batch ("" when empty). */
  last: string;
}

export interface RedisSourceOptions {
  root: string;
  env: NodeJS.ProcessEnv;
  url: RedisUrl;
  projects: readonly string[];
  replay: boolean;
  log: Logger;
}

/** "1700000000000-3" after "1700000000000-2": entry ids compared as numbers (ms fit a double exactly). */
function later(a: string, b: string): boolean {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am > bm || (am === bm && as > bs);
}

const latest = (...ids: string[]): string => ids.reduce((a, b) => (later(b, a) ? b : a), "0-0");

/** Whether this machine wakes the role: a live session here (tmux, socket) or its cwd here (spawn, a socket's spawn fallback). */
export function ownsRole(role: EffectiveRole, here: readonly SessionView[]): boolean {
  const live = here.some((s) => s.live);
  const cwdHere = (): boolean => spawnTargetCheck(role).ok;
  if (role.driver === "spawn") return cwdHere();
  if (role.driver === "socket") return live || (role.fallback === "spawn" && cwdHere());
  return live;
}

/** The roles of `projects` as a Redis store has them, with their wake state: what `spawner status` shows on Redis. */
export async function readRedisWakeStates(
  url: RedisUrl,
  env: NodeJS.ProcessEnv,
  projects: readonly string[],
): Promise<{ project: string; role: string; unread: number; wake: WakeState }[]> {
  const { openWakeBook } = await import("../store/redis/index.ts");
  const book = await openWakeBook(url, env);
  try {
    const out: { project: string; role: string; unread: number; wake: WakeState }[] = [];
    for (const project of projects)
      for (const { role, unread, state } of await book.states(project)) out.push({ project, role, unread, wake: parseWakeState(state) });
    return out;
  } finally {
    await book.close();
  }
}

/** Connects (command and subscriber connections: E_STORE within ~2 s naming the URL without its password) and subscribes. */
export async function openRedisSource(options: RedisSourceOptions): Promise<WakeSource<RedisBatch>> {
  const { root, env, url, projects, log } = options;
  const { openWakeBook } = await import("../store/redis/index.ts");
  const book: WakeBook = await openWakeBook(url, env);
  let hooks: SourceHooks | undefined;
  let down = false;
  const floors = new Map<string, string>();
  const seen = new Map<string, string>();
  const sids = new Map<string, Map<string, string>>();
  let skipped = 0;
  try {
    await book.listen(projects, {
      role: (project, role) => hooks?.role(project, role),
      ready() {
        if (down) log({ event: "store-back", msg: `reconnected to ${url.shown}; looking at every role again` });
        down = false;
        hooks?.rescan();
      },
      lost(why) {
        down = true;
        log({ event: "store-lost", msg: `${why}; pub/sub drops what is sent meanwhile, so every role is looked at again on reconnect` });
      },
    });
    for (const project of projects)
      for (const mark of await book.marks(project)) {
        if (options.replay || !later(mark.last, latest(mark.cur, mark.covered))) continue;
        floors.set(`${project}/${mark.role}`, mark.last);
        skipped += (await book.read(project, mark.role, "0-0", MAX_BATCH)).entries.length;
      }
  } catch (err) {
    await book.close();
    throw err;
  }

  const read = async (r: RoleRef): Promise<RedisBatch> =>
    batchOf(r, await book.read(r.project, r.role, floors.get(r.key) ?? "0-0", MAX_BATCH));

  const batchOf = (r: RoleRef, got: WakeRead): RedisBatch => {
    const floor = floors.get(r.key) ?? "0-0";
    const messages = got.entries.flatMap((e) => (e.message ? [e.message] : []));
    sids.set(r.key, new Map(got.entries.flatMap((e) => (e.message ? [[e.message.id, e.sid] as [string, string]] : []))));
    const last = got.entries.at(-1)?.sid ?? "";
    const through = last || latest(got.cur, got.covered, floor);
    return { messages, skipped: got.entries.length - messages.length, mark: through, state: got.state, through, last };
  };

  /** Ends the in-flight mark under the role's wake lock, as finishWake does on files. */
  const finish = async (project: string, role: string, detail?: string): Promise<void> => {
    const token = await book.lock(project, role, WAKE_LOCK_MS, WAKE_LOCK_WAIT_MS);
    try {
      const next = finishedState(parseWakeState(await book.state(project, role)), detail);
      await book.commit(project, role, token, JSON.stringify(next), undefined);
    } catch (err) {
      await book.release(project, role, token).catch(() => {});
      throw err;
    }
  };

  const site = (r: RoleRef, sessions: SessionView[]): WakeSite => ({
    paths: rolePaths(root, r.project, r.role),
    sessions,
    async taken(ids) {
      const cur = await book.cursor(r.project, r.role);
      const at = sids.get(r.key);
      return ids.every((id) => {
        const sid = at?.get(id);
        return sid === undefined || !later(sid, cur);
      });
    },
    finish: (detail) => finish(r.project, r.role, detail),
  });

  return {
    kind: "redis",
    where: `${url.shown} (project${projects.length === 1 ? "" : "s"} ${projects.join(", ")})`,
    siteOf: (project, role) => site({ key: `${project}/${role}`, project, role }, []),
    begin: () => skipped,
    arm(given) {
      hooks = given;
    },
    async scan() {
      // Away from the server nothing can be read; the reconnect rescans everything.
      if (down) return [];
      const out: { project: string; role: string; changed: boolean }[] = [];
      for (const project of projects)
        for (const mark of await book.marks(project))
          out.push({ project, role: mark.role, changed: later(mark.last, seen.get(`${project}/${mark.role}`) ?? "0-0") });
      return out;
    },
    async batch(r, look = false) {
      const batch = await read(r);
      if (look) seen.set(r.key, batch.through);
      return batch;
    },
    // `covered` moves with the claim, in Redis; what the session read, its cursor says.
    settle() {},
    async site(r, role) {
      const here = (await book.sessions(r.project, r.role)).filter((s) => madeHere(s));
      return ownsRole(role, here) ? site(r, here) : undefined;
    },
    async history(_r, batch) {
      return parseWakeState(batch.state);
    },
    async claim(r, claim, _batch, final) {
      const floor = floors.get(r.key) ?? "0-0";
      const { token, read: got } = await book.lockRead(r.project, r.role, WAKE_LOCK_MS, WAKE_LOCK_WAIT_MS, floor, MAX_BATCH);
      try {
        const current = batchOf(r, got);
        const recorded = parseWakeState(current.state);
        const now = claim.clock();
        const decision = decideClaim(claim, current.messages, recorded, now);
        const next = stateAfter(recorded, decision, now, {
          driver: claim.driver,
          ...(claim.inFlight !== undefined && { inFlight: claim.inFlight }),
        });
        const covered = (decision.wake || final(decision)) && current.last ? current.last : undefined;
        if (await book.commit(r.project, r.role, token, next && JSON.stringify(next), covered)) return { decision, batch: current };
        return {
          decision: {
            wake: false,
            code: "busy",
            reason: `this daemon held the wake lock of ${r.key} past ${WAKE_LOCK_MS} ms, so its decision was not recorded; deciding again`,
            retryAt: Date.now() + 1000,
          },
          batch: current,
        };
      } catch (err) {
        await book.release(r.project, r.role, token).catch(() => {});
        throw err;
      }
    },
    close: () => book.close(),
  };
}
