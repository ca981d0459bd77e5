// The bus on a Redis server: the same operations and promises as the file store (src/bus.ts),
// each an atomic Lua script (./scripts.ts). Loaded only when BRIDGE_URL names Redis: this module
// and the client are a bundle of their own (src/runtime/bundles.json "redis").
//
// Consume is claim → deliver → commit: a claim takes the role's lease (SET NX PX) and the unread
// entries; the caller shows them; the commit writes the receipt, then the cursor, and frees the
// lease, only while the lease is still the caller's. A reader killed after its claim leaves the
// lease to expire, and the next reader gets the same entries again, in order, listed as
// redelivered (the dead one may have shown them). So every acknowledged message is delivered,
// in order, and shown twice only when marked so; no store can make "shown" and "committed" one act.
import { createHash } from "node:crypto";
import { checkBody } from "../../bus.ts";
import type { Identity, MessageStatus, RecipientStatus, RoleSummary, SendRequest, SendResult } from "../../bus.ts";
import { LINE_MAX_BYTES } from "../../bus/lines.ts";
import { machineStamp } from "../../bus/machine.ts";
import { ID_PATTERN, newId, parseMessage, serializeMessage } from "../../bus/message.ts";
import type { Message } from "../../bus/message.ts";
import { BROADCAST, caseTwinError, validateName } from "../../bus/names.ts";
import type { SessionInfo, SessionRecord, SessionView } from "../../bus/sessions.ts";
import { BridgeError } from "../../lib/errors.ts";
import { randomHex } from "../../lib/fs.ts";
import type { Deliver, ReceiveOptions, Received, Store } from "../types.ts";
import type { RedisUrl } from "../url.ts";
import { connectRedis, storeError } from "./connect.ts";
import type { Client } from "./connect.ts";
import { followRedis } from "./follow.ts";
import * as lua from "./scripts.ts";
import { watchRedis } from "./watch.ts";
import { isoTime } from "../../lib/time.ts";

export interface RedisLimits {
  /** How long a claim holds the role before another reader may take the same entries. */
  leaseMs: number;
  /** Unread messages one role may hold; a send past it is refused (E_BACKLOG). */
  maxUnread: number;
  /** Consumed messages (and receipts) kept per role for `tail` and `status`. */
  keep: number;
  /** How long a message id answers `status` and makes a retried send a no-op. */
  idTtlSeconds: number;
}

const BATCH = 1000;

function limitsFrom(env: NodeJS.ProcessEnv): RedisLimits {
  const int = (name: string, fallback: number): number => {
    const n = Number(env[name]);
    return env[name] !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
  };
  return {
    leaseMs: int("BRIDGE_REDIS_LEASE_MS", 10_000),
    maxUnread: int("BRIDGE_REDIS_MAX_UNREAD", 10_000),
    keep: int("BRIDGE_REDIS_KEEP", 1000),
    idTtlSeconds: 7 * 24 * 3600,
  };
}

/** "1700000000000-3" as comparable numbers: ms fit a double exactly. */
export function afterId(a: string, b: string): boolean {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am > bm || (am === bm && as > bs);
}

type Entry = [string, string[]];

function entryMessage(entry: Entry): Message | undefined {
  const fields = entry[1];
  const at = fields.indexOf("m");
  return at >= 0 && at % 2 === 0 ? parseMessage(fields[at + 1] ?? "") : undefined;
}

export function openRedisStore(url: RedisUrl, env: NodeJS.ProcessEnv): Store {
  const limits = limitsFrom(env);
  let client: Client | undefined;
  const shas = new Map<string, string>();
  const prefix = (project: string): string => `sb:{${validateName("project", project)}}:`;

  async function connection(nothing: string): Promise<Client> {
    // A long-running face (the dashboard) outlives a client that gave up reconnecting (./connect.ts
    // retries a few times): the next call makes a new one.
    if (client?.status === "end") client = undefined;
    client ??= await connectRedis(url, env, { nothing });
    return client;
  }

  /** Runs one script (EVALSHA, EVAL the first time a server lacks it); failures are E_STORE saying what did not happen. */
  async function run(project: string, script: string, args: (string | number)[], nothing: string): Promise<unknown> {
    const c = await connection(nothing);
    const p = prefix(project);
    let sha = shas.get(script);
    if (sha === undefined) shas.set(script, (sha = createHash("sha1").update(script).digest("hex")));
    try {
      try {
        return await c.evalsha(sha, 1, `${p}roles`, p, ...args);
      } catch (err) {
        if (!String((err as Error)?.message).startsWith("NOSCRIPT")) throw err;
        return await c.eval(script, 1, `${p}roles`, p, ...args);
      }
    } catch (err) {
      throw storeError(url, err, nothing);
    }
  }

  async function sessionsOf(project: string, role: string): Promise<SessionView[]> {
    const [now, ...rest] = (await run(project, lua.SESSIONS, [role], "nothing was read")) as [number, ...string[]];
    const views: SessionView[] = [];
    for (let i = 0; i + 1 < rest.length; i += 2) {
      const record = JSON.parse(rest[i]!) as SessionRecord;
      views.push({ ...record, live: Number(rest[i + 1]) > now });
    }
    return views.sort((a, b) => Number(b.live) - Number(a.live) || b.lastSeen.localeCompare(a.lastSeen));
  }

  const store: Store = {
    kind: "redis",
    where: url.shown,

    async send(request: SendRequest): Promise<SendResult> {
      const { identity, to } = request;
      const project = validateName("project", identity.project);
      const from = validateName("role", identity.role);
      const body = checkBody(request.body, request.limits.maxBodyBytes);
      if (request.replyTo !== undefined && !ID_PATTERN.test(request.replyTo))
        throw new BridgeError(
          "E_USAGE",
          `replyTo ${JSON.stringify(request.replyTo)} is not a message id (ids look like m…, as printed by send)`,
        );
      if (to !== BROADCAST) {
        validateName("role", to);
        if (to.toLowerCase() === from.toLowerCase())
          throw new BridgeError("E_SELF_SEND", `"${to}" is your own role; send to another role of project "${project}"`);
      }
      const message: Message = {
        id: newId(),
        ts: isoTime(),
        project,
        from,
        to,
        body,
        chain: request.stamp.chain,
        hop: request.stamp.hop,
        ...(request.replyTo !== undefined && { replyTo: request.replyTo }),
      };
      const line = serializeMessage(message);
      if (Buffer.byteLength(line, "utf8") > LINE_MAX_BYTES)
        throw new BridgeError(
          "E_TOO_LARGE",
          `the message takes ${Buffer.byteLength(line, "utf8")} bytes stored, over ${LINE_MAX_BYTES}; nothing was sent: send a file path instead`,
        );
      const envelope = JSON.stringify({ id: message.id, ts: message.ts, from, to, chain: message.chain, hop: message.hop });
      const args = [message.id, line, from, to, request.queue === true ? "1" : "0", limits.maxUnread, limits.idTtlSeconds, envelope];
      const [state, a, b] = (await run(project, lua.SEND, args, `nothing was sent (message ${message.id})`)) as [
        string,
        string?,
        (string | string[])?,
      ];
      if (state === "E_BAD_NAME") throw caseTwinError("role", a!, String(b), ` of project "${project}"`);
      if (state === "E_NO_RECIPIENTS")
        throw new BridgeError(
          "E_NO_RECIPIENTS",
          `nobody else has joined project "${project}" yet, so a broadcast would reach no one; send to a role by name with --queue to leave a message for it`,
        );
      if (state === "E_UNKNOWN_ROLE")
        throw new BridgeError(
          "E_UNKNOWN_ROLE",
          `unknown role "${to}" in project "${project}" (known: ${
            (a ?? "")
              .split(", ")
              .filter((r) => r && r !== from)
              .join(", ") || "none yet"
          }); use --queue (CLI) or queue: true (bridge_send) to queue for a role that has not joined yet`,
        );
      if (state === "E_BACKLOG")
        throw new BridgeError(
          "E_BACKLOG",
          `role "${a}" of project "${project}" has ${String(b)} unread messages, the most the store at ${url.shown} keeps for one role (BRIDGE_REDIS_MAX_UNREAD=${limits.maxUnread}); nothing was sent: wait until ${a} reads its mail`,
        );
      const stored = JSON.parse(a!) as { at: [string, string][] };
      // A retried send ("dup") answers without sessions: the first attempt's caller had them.
      const live = Array.isArray(b) ? b : [];
      const deliveries = stored.at.map(([role]) => {
        const views: SessionView[] = [];
        for (let i = 0; i + 1 < live.length; i += 2)
          if (live[i] === role) views.push({ ...(JSON.parse(live[i + 1]!) as SessionRecord), live: true });
        return { role, live: views };
      });
      return { message, deliveries };
    },

    async receive(identity: Identity, options: ReceiveOptions, deliver?: Deliver): Promise<Received> {
      const project = validateName("project", identity.project);
      const role = validateName("role", identity.role);
      const token = randomHex(8);
      const nothing = "nothing was consumed";
      const all: Received = { messages: [], remaining: 0, skipped: 0, redelivered: [] };
      const waitUntil = Date.now() + limits.leaseMs + 5000;
      for (;;) {
        const reply = (await run(project, lua.CLAIM, [role, token, limits.leaseMs, BATCH], nothing)) as [string, ...unknown[]];
        if (reply[0] === "E_BAD_NAME") throw caseTwinError("role", role, String(reply[2]), ` of project "${project}"`);
        if (reply[0] === "busy") {
          if (Date.now() > waitUntil)
            throw new BridgeError(
              "E_LOCKED",
              `another reader of role "${role}" has held it for over ${limits.leaseMs} ms at ${url.shown}; ${nothing}, try again`,
            );
          await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
          continue;
        }
        if (reply[0] === "empty") break;
        const [, claimedBefore, cur, entries] = reply as [string, string, string, Entry[]];
        const batch: Received = { messages: [], remaining: 0, skipped: 0, redelivered: [] };
        let toId: string | undefined;
        for (const [i, entry] of entries.entries()) {
          const message = entryMessage(entry);
          if (message === undefined) {
            batch.skipped++;
            toId = entry[0];
            continue;
          }
          if (options.accept && !options.accept(message, all.messages.length + batch.messages.length)) {
            batch.remaining = entries.slice(i).length;
            break;
          }
          batch.messages.push(message);
          if (!afterId(entry[0], claimedBefore) && afterId(entry[0], cur)) batch.redelivered.push(message.id);
          toId = entry[0];
        }
        if (toId === undefined) {
          await run(project, lua.RELEASE, [role, token], nothing);
          all.remaining += batch.remaining;
          break;
        }
        if (deliver) await deliver(batch);
        const ids = JSON.stringify(batch.messages.map((m) => m.id));
        const count = entries.findIndex((e) => e[0] === toId) + 1;
        const [state] = (await run(
          project,
          lua.COMMIT,
          [role, token, toId, isoTime(), options.by, ids, cur, count, limits.keep],
          "the messages taken were not marked read",
        )) as string[];
        if (state === "lost")
          throw new BridgeError(
            "E_LEASE_LOST",
            `role "${role}": this read held its lease past ${limits.leaseMs} ms, so its ${batch.messages.length} message(s) were not marked read; they will be delivered again, marked as redelivered`,
          );
        all.messages.push(...batch.messages);
        all.skipped += batch.skipped;
        all.redelivered.push(...batch.redelivered);
        all.remaining += batch.remaining;
        if (batch.remaining > 0 || entries.length < BATCH) break;
      }
      return all;
    },

    async peek(identity) {
      const [, entries] = (await run(
        identity.project,
        lua.PEEK,
        [validateName("role", identity.role), limits.maxUnread],
        "nothing was read",
      )) as [string, Entry[]];
      const messages = entries.map(entryMessage);
      return { messages: messages.filter((m): m is Message => m !== undefined), skipped: messages.filter((m) => m === undefined).length };
    },

    async tail(identity, limit) {
      if (limit <= 0) return { messages: [], skipped: 0 };
      const [cur, entries] = (await run(identity.project, lua.TAIL, [validateName("role", identity.role), limit], "nothing was read")) as [
        string,
        Entry[],
      ];
      let skipped = 0;
      const messages = [];
      for (const entry of entries.reverse()) {
        const message = entryMessage(entry);
        if (message === undefined) skipped++;
        else messages.push({ message, read: !afterId(entry[0], cur) });
      }
      return { messages, skipped };
    },

    follow: (identity, limit, handlers) => followRedis(url, env, identity, limit, handlers),
    watch: (projects, changed, pollMs) => watchRedis(url, env, projects, changed, pollMs),

    async roles(project): Promise<RoleSummary[]> {
      const flat = (await run(project, lua.ROLES, [], "nothing was read")) as (string | number)[];
      const out: RoleSummary[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const role = String(flat[i]);
        const sessions = await sessionsOf(project, role);
        out.push({ role, unread: Number(flat[i + 1]), skipped: 0, sessions, live: sessions.some((s) => s.live) });
      }
      return out;
    },

    async status(project, id): Promise<MessageStatus> {
      if (!ID_PATTERN.test(id))
        throw new BridgeError("E_USAGE", `${JSON.stringify(id)} is not a message id (ids look like m…, as printed by send)`);
      const [stored, ...curs] = (await run(project, lua.STATUS, [id], "nothing was read")) as [string | null, ...string[]];
      if (!stored)
        throw new BridgeError(
          "E_NOT_FOUND",
          `no message with id "${id}" in project "${project}" at ${url.shown} (it may be from another project: pass --project, or older than the kept ids)`,
        );
      const { m, at } = JSON.parse(stored) as {
        m: { from: string; to: string; ts: string; chain: string; hop: number };
        at: [string, string][];
      };
      const recipients: RecipientStatus[] = [];
      for (const [i, [role, sid]] of at.entries()) {
        const cur = curs[2 * i + 1] ?? "0-0";
        const read = !afterId(sid, cur);
        const status: RecipientStatus = { role, state: read ? "read" : "queued" };
        if (read) {
          const receipt = await findReceipt(project, role, sid);
          if (receipt) Object.assign(status, receipt);
        }
        recipients.push(status);
      }
      return { id, project, from: m.from, to: m.to, ts: m.ts, chain: m.chain, hop: m.hop, recipients, skipped: 0 };
    },

    async touchSession(identity, info: SessionInfo, ttlMs: number) {
      const now = isoTime();
      const record: SessionRecord = { ...info, ...machineStamp(), startedAt: now, lastSeen: now };
      const key = `${record.machine}:${info.pid}`;
      const reply = await run(
        identity.project,
        lua.TOUCH,
        [validateName("role", identity.role), key, JSON.stringify(record), ttlMs, 24 * 3600 * 1000],
        "the session was not recorded",
      );
      if (Array.isArray(reply)) throw caseTwinError("role", identity.role, String(reply[2]), ` of project "${identity.project}"`);
      return { ...record, live: true };
    },

    sessions: (identity) => sessionsOf(identity.project, validateName("role", identity.role)),

    async close() {
      const c = client;
      client = undefined;
      if (!c) return;
      await c.quit().catch(() => c.disconnect());
    },
  };

  async function findReceipt(project: string, role: string, sid: string): Promise<{ at: string; by: string } | undefined> {
    const c = await connection("nothing was read");
    const rows = (await c.xrevrange(`${prefix(project)}rc:${role}`, "+", "-", "COUNT", limits.keep).catch((err: unknown) => {
      throw storeError(url, err, "nothing was read");
    })) as Entry[];
    for (const [, fields] of rows) {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      if (f.from !== undefined && f.to !== undefined && afterId(sid, f.from) && !afterId(sid, f.to))
        return { at: f.at ?? "", by: f.by ?? "" };
    }
    return undefined;
  }

  return store;
}
