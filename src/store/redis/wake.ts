// The wake daemon's view of a Redis store (docs/architecture.md "A wake", Redis column): what is
// new per role, the role's wake bookkeeping and the lock every wake decision is made under, the
// role's sessions, and the wake channel. The decision itself (the rails) is made by the caller,
// between `lock` and `commit`, so one copy of the rules serves both stores. Keys, beside the
// store's own (./scripts.ts):
//   wake:R     hash: state (the role's WakeState as JSON: recent wakes, last wake, last refusal,
//              in flight), covered (the last inbox entry id a wake, or a final refusal, covered)
//   wlock:R    the wake decision in progress (SET NX PX): its token; released compare-and-delete
// All under `sb:{P}:`, as the store's keys: an ACL user confined to `~sb:{P}:*` `&sb:{P}:*` can
// run a daemon for P, and each script touches one slot.
import { createHash } from "node:crypto";
import { parseMessage } from "../../bus/message.ts";
import type { Message } from "../../bus/message.ts";
import { validateName } from "../../bus/names.ts";
import type { SessionRecord, SessionView } from "../../bus/sessions.ts";
import { BridgeError } from "../../lib/errors.ts";
import { randomHex } from "../../lib/fs.ts";
import type { RedisUrl } from "../url.ts";
import { connectRedis, storeError } from "./connect.ts";
import type { Client } from "./connect.ts";
import { HELPERS, SESSIONS } from "./scripts.ts";

/** ARGV: prefix → {role, last entry id, cur, covered, …} sorted by role. */
const WAKE_ROLES = `
local p = ARGV[1]
local roles = redis.call('SMEMBERS', p .. 'roles')
table.sort(roles)
local out = {}
for _, r in ipairs(roles) do
  local last = redis.call('XREVRANGE', p .. 'in:' .. r, '+', '-', 'COUNT', 1)
  table.insert(out, r)
  table.insert(out, last[1] and last[1][1] or '0-0')
  table.insert(out, redis.call('HGET', p .. 'st:' .. r, 'cur') or '0-0')
  table.insert(out, redis.call('HGET', p .. 'wake:' .. r, 'covered') or '0-0')
end
return out
`;

/**
 * Lua: a role's cursor, how far wakes have covered its inbox, its wake state (JSON or ''), and the
 * entries after all three and `floor`, at most `max`: what a wake decision reads, with or without the lock.
 */
const READ_FOR_WAKE = `
local function read_for_wake(p, r, floor, max)
  local cur = redis.call('HGET', p .. 'st:' .. r, 'cur') or '0-0'
  local w = redis.call('HMGET', p .. 'wake:' .. r, 'covered', 'state')
  local covered = w[1] or '0-0'
  local from = cur
  if after(covered, from) then from = covered end
  if after(floor, from) then from = floor end
  return cur, covered, w[2] or '', redis.call('XRANGE', p .. 'in:' .. r, '(' .. from, '+', 'COUNT', tonumber(max))
end
`;

/** ARGV: prefix, role, floor, max → {cur, covered, state JSON or '', entries after cur, covered and floor}. */
const WAKE_READ = `${HELPERS}${READ_FOR_WAKE}
return {read_for_wake(ARGV[1], ARGV[2], ARGV[3], ARGV[4])}
`;

/** ARGV: prefix, role, token, ttlMs, floor, max → {'busy'} | {'ok', cur, covered, state, entries} (WAKE_READ under the lock just taken). */
const WAKE_LOCK_READ = `${HELPERS}${READ_FOR_WAKE}
local p, r = ARGV[1], ARGV[2]
if not redis.call('SET', p .. 'wlock:' .. r, ARGV[3], 'PX', tonumber(ARGV[4]), 'NX') then return {'busy'} end
return {'ok', read_for_wake(p, r, ARGV[5], ARGV[6])}
`;

const WAKE_COMMIT = `${HELPERS}
local p, r = ARGV[1], ARGV[2]
local lock = p .. 'wlock:' .. r
if redis.call('GET', lock) ~= ARGV[3] then return 0 end
local key = p .. 'wake:' .. r
if ARGV[4] ~= '' then redis.call('HSET', key, 'state', ARGV[4]) end
if ARGV[5] ~= '' and after(ARGV[5], redis.call('HGET', key, 'covered') or '0-0') then redis.call('HSET', key, 'covered', ARGV[5]) end
redis.call('DEL', lock)
return 1
`;

/** ARGV: prefix, role, token → deletes the lock only while it is the caller's. */
const WAKE_RELEASE = `
if redis.call('GET', ARGV[1] .. 'wlock:' .. ARGV[2]) == ARGV[3] then redis.call('DEL', ARGV[1] .. 'wlock:' .. ARGV[2]) end
return 1
`;

/** ARGV: prefix → {role, unread, state JSON or '', …} sorted by role. */
const WAKE_STATES = `${HELPERS}
local p = ARGV[1]
local roles = redis.call('SMEMBERS', p .. 'roles')
table.sort(roles)
local out = {}
for _, r in ipairs(roles) do
  table.insert(out, r)
  table.insert(out, unread(p, r))
  table.insert(out, redis.call('HGET', p .. 'wake:' .. r, 'state') or '')
end
return out
`;

export interface RoleMark {
  role: string;
  /** The newest inbox entry id ("0-0": none). */
  last: string;
  /** The role's consumer cursor: entries up to it are read. */
  cur: string;
  /** How far wakes have covered the inbox. */
  covered: string;
}

export interface WakeRead {
  cur: string;
  covered: string;
  /** The role's wake state as JSON ("" when none yet). */
  state: string;
  /** The entries after the cursor, `covered` and the floor, oldest first; a message that does not parse is undefined. */
  entries: { sid: string; message: Message | undefined }[];
}

export interface WakeListener {
  /** A send published the role on the project's wake channel. */
  role(project: string, role: string): void;
  /** Subscribed, on the first connect and after every reconnect: pub/sub dropped what was sent meanwhile. */
  ready(): void;
  /** The subscriber lost the server; it keeps retrying. */
  lost(why: string): void;
}

export interface WakeBook {
  readonly where: string;
  marks(project: string): Promise<RoleMark[]>;
  read(project: string, role: string, floor: string, max: number): Promise<WakeRead>;
  /** Takes the role's wake lock (waiting up to `waitMs` for another daemon's decision); its token. */
  lock(project: string, role: string, ttlMs: number, waitMs: number): Promise<string>;
  /** `lock`, then `read` under it, in one round trip per try. */
  lockRead(
    project: string,
    role: string,
    ttlMs: number,
    waitMs: number,
    floor: string,
    max: number,
  ): Promise<{ token: string; read: WakeRead }>;
  commit(project: string, role: string, token: string, state: string | undefined, covered: string | undefined): Promise<boolean>;
  release(project: string, role: string, token: string): Promise<void>;
  cursor(project: string, role: string): Promise<string>;
  /** The role's wake state as JSON ("" when none yet). */
  state(project: string, role: string): Promise<string>;
  sessions(project: string, role: string): Promise<SessionView[]>;
  /** Every role of the project: its unread count and wake state (JSON, "" when none). */
  states(project: string): Promise<{ role: string; unread: number; state: string }[]>;
  /** Subscribes to the wake channels of `projects` on a connection of its own (no command timeout). */
  listen(projects: readonly string[], listener: WakeListener): Promise<void>;
  close(): Promise<void>;
}

const NOTHING = "nothing was woken";

/** Connects (E_STORE within ~2 s, naming the URL without its password); the connection then retries for as long as it is open. */
export async function openWakeBook(url: RedisUrl, env: NodeJS.ProcessEnv): Promise<WakeBook> {
  const client = await connectRedis(url, env, { nothing: NOTHING, persistent: true });
  let subscriber: Client | undefined;
  // Set by close(): the subscriber's "close" is then ours, not a lost server.
  let closing = false;
  const shas = new Map<string, string>();
  const prefix = (project: string): string => `sb:{${validateName("project", project)}}:`;

  async function run(project: string, script: string, args: (string | number)[]): Promise<unknown> {
    const p = prefix(project);
    let sha = shas.get(script);
    if (sha === undefined) shas.set(script, (sha = createHash("sha1").update(script).digest("hex")));
    try {
      try {
        return await client.evalsha(sha, 1, `${p}roles`, p, ...args);
      } catch (err) {
        if (!String((err as Error)?.message).startsWith("NOSCRIPT")) throw err;
        return await client.eval(script, 1, `${p}roles`, p, ...args);
      }
    } catch (err) {
      throw storeError(url, err, NOTHING);
    }
  }

  return {
    where: url.shown,
    async marks(project) {
      const flat = (await run(project, WAKE_ROLES, [])) as string[];
      const out: RoleMark[] = [];
      for (let i = 0; i + 3 < flat.length; i += 4)
        out.push({ role: flat[i]!, last: flat[i + 1]!, cur: flat[i + 2]!, covered: flat[i + 3]! });
      return out;
    },
    async read(project, role, floor, max) {
      return wakeRead((await run(project, WAKE_READ, [role, floor, max])) as ReadReply);
    },
    async lockRead(project, role, ttlMs, waitMs, floor, max) {
      const token = randomHex(8);
      const until = Date.now() + waitMs;
      for (;;) {
        const [state, ...rest] = (await run(project, WAKE_LOCK_READ, [role, token, ttlMs, floor, max])) as [string, ...ReadReply];
        if (state === "ok") return { token, read: wakeRead(rest as ReadReply) };
        if (Date.now() > until) throw lockedError(project, role, waitMs);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
      }
    },
    async lock(project, role, ttlMs, waitMs) {
      const token = randomHex(8);
      const key = `${prefix(project)}wlock:${role}`;
      const until = Date.now() + waitMs;
      for (;;) {
        const reply = await client.set(key, token, "PX", ttlMs, "NX").catch((err: unknown) => {
          throw storeError(url, err, NOTHING);
        });
        if (reply === "OK") return token;
        if (Date.now() > until) throw lockedError(project, role, waitMs);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 10));
      }
    },
    async commit(project, role, token, state, covered) {
      return (await run(project, WAKE_COMMIT, [role, token, state ?? "", covered ?? ""])) === 1;
    },
    async release(project, role, token) {
      await run(project, WAKE_RELEASE, [role, token]);
    },
    async cursor(project, role) {
      const cur = await client.hget(`${prefix(project)}st:${role}`, "cur").catch((err: unknown) => {
        throw storeError(url, err, NOTHING);
      });
      return cur ?? "0-0";
    },
    async state(project, role) {
      const state = await client.hget(`${prefix(project)}wake:${role}`, "state").catch((err: unknown) => {
        throw storeError(url, err, NOTHING);
      });
      return state ?? "";
    },
    async sessions(project, role) {
      const [now, ...rest] = (await run(project, SESSIONS, [role])) as [number, ...string[]];
      const views: SessionView[] = [];
      for (let i = 0; i + 1 < rest.length; i += 2)
        views.push({ ...(JSON.parse(rest[i]!) as SessionRecord), live: Number(rest[i + 1]) > now });
      return views.sort((a, b) => Number(b.live) - Number(a.live) || b.lastSeen.localeCompare(a.lastSeen));
    },
    async states(project) {
      const flat = (await run(project, WAKE_STATES, [])) as (string | number)[];
      const out: { role: string; unread: number; state: string }[] = [];
      for (let i = 0; i + 2 < flat.length; i += 3)
        out.push({ role: String(flat[i]), unread: Number(flat[i + 1]), state: String(flat[i + 2]) });
      return out;
    },
    async listen(projects, listener) {
      const channels = new Map(projects.map((p) => [`${prefix(p)}wake`, p]));
      const sub = await connectRedis(url, env, { nothing: NOTHING, subscriber: true });
      subscriber = sub;
      let down = false;
      sub.on("message", (channel: string, role: string) => {
        const project = channels.get(channel);
        if (project !== undefined) listener.role(project, role);
      });
      sub.on("error", (err: Error) => {
        if (down || closing) return;
        down = true;
        listener.lost(storeError(url, err, "retrying").message);
      });
      sub.on("close", () => {
        if (down || closing) return;
        down = true;
        listener.lost(`the connection to ${url.shown} closed; retrying`);
      });
      // The client subscribes again by itself on reconnect, before "ready".
      sub.on("ready", () => {
        if (!down) return;
        down = false;
        listener.ready();
      });
      try {
        await sub.subscribe(...channels.keys());
      } catch (err) {
        throw storeError(url, err, NOTHING);
      }
      listener.ready();
    },
    async close() {
      closing = true;
      for (const c of [subscriber, client]) await c?.quit().catch(() => c.disconnect());
    },
  };

  function lockedError(project: string, role: string, waitMs: number): BridgeError {
    return new BridgeError(
      "E_LOCKED",
      `the wake lock of ${project}/${role} at ${url.shown} has been held for over ${waitMs} ms (another daemon deciding); ${NOTHING}, the next rescan tries again`,
    );
  }
}

type ReadReply = [string, string, string, [string, string[]][]];

function wakeRead([cur, covered, state, entries]: ReadReply): WakeRead {
  return {
    cur,
    covered,
    state,
    entries: entries.map(([sid, fields]) => {
      const at = fields.indexOf("m");
      return { sid, message: at >= 0 && at % 2 === 0 ? parseMessage(fields[at + 1] ?? "") : undefined };
    }),
  };
}
