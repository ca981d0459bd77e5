// `tail --follow` on Redis: the role's newest messages, then each new one as it is added, read
// with XREAD BLOCK on a connection of its own (iovalkey 0.4.0's `commandTimeout` also cuts a
// blocking read: src/store/redis/connect.ts). The history and the position it ends at are read in
// one script, and the live part reads strictly after that stream entry id, so a message sent
// during the switch is printed once. The position moves only past what was printed: after a lost
// connection the follower reconnects and reads on from there, never printing a message twice or
// skipping one. Nothing is consumed; memory holds one batch of entries at a time.
import type { Identity } from "../../bus.ts";
import { parseMessage } from "../../bus/message.ts";
import type { Message } from "../../bus/message.ts";
import { validateName } from "../../bus/names.ts";
import { describeError } from "../../lib/errors.ts";
import type { FollowHandlers } from "../types.ts";
import type { RedisUrl } from "../url.ts";
import { connectRedis, storeError } from "./connect.ts";
import type { Client } from "./connect.ts";

/** How long one XREAD waits on the server before it is sent again. */
const BLOCK_MS = 5000;
/** An XREAD unanswered this long past its block time means a dead connection (a network cut sends no close). */
const SILENT_MS = BLOCK_MS + 10_000;
/** Entries printed per read: what the follower holds at once. */
const BATCH = 200;

/** ARGV: prefix, role, count → {cur, entries (newest first)}: the history and the position after it, at one instant. */
const HISTORY = `
local p, r = ARGV[1], ARGV[2]
local cur = redis.call('HGET', p .. 'st:' .. r, 'cur') or '0-0'
return {cur, redis.call('XREVRANGE', p .. 'in:' .. r, '+', '-', 'COUNT', tonumber(ARGV[3]))}
`;

type Entry = [string, string[]];

function after(a: string, b: string): boolean {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am > bm || (am === bm && as > bs);
}

function entryMessage(entry: Entry): Message | undefined {
  const fields = entry[1];
  const at = fields.indexOf("m");
  return at >= 0 && at % 2 === 0 ? parseMessage(fields[at + 1] ?? "") : undefined;
}

export async function followRedis(
  url: RedisUrl,
  env: NodeJS.ProcessEnv,
  identity: Identity,
  limit: number,
  h: FollowHandlers,
): Promise<void> {
  const project = validateName("project", identity.project);
  const role = validateName("role", identity.role);
  const prefix = `sb:{${project}}:`;
  const key = `${prefix}in:${role}`;
  const client = await connectRedis(url, env, { nothing: "nothing was read", subscriber: true });
  let stopping = false;
  let away = false;
  let cause = "";
  const stop = (): void => {
    stopping = true;
    client.disconnect();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  h.signal?.addEventListener("abort", stop, { once: true });
  client.on("error", (err: unknown) => {
    cause = describeError(err);
    if (url.password) cause = cause.split(url.password).join("***");
  });
  client.on("reconnecting", () => {
    if (stopping || away) return;
    away = true;
    h.notice(
      `the store at ${url.shown} went away${cause ? ` (${cause})` : ""}; reconnecting, then following on after the last message shown`,
    );
  });
  client.on("ready", () => {
    if (stopping || !away) return;
    away = false;
    h.notice(`the store at ${url.shown} is back; following on`);
  });
  try {
    let position: string;
    try {
      const [cur, entries] = (await client.eval(HISTORY, 1, `${prefix}roles`, prefix, role, Math.max(limit, 1))) as [string, Entry[]];
      position = entries[0]?.[0] ?? "0-0";
      let skipped = 0;
      for (const entry of entries.slice(0, limit).reverse()) {
        const message = entryMessage(entry);
        if (message === undefined) skipped++;
        else h.message(message, !after(entry[0], cur));
      }
      h.skipped(skipped);
    } catch (err) {
      throw storeError(url, err, "nothing was read");
    }
    while (!stopping) {
      let reply: [string, Entry[]][] | null;
      try {
        reply = await readOnce(client, key, position);
      } catch (err) {
        if (stopping) break;
        // The server answered with an error (a lost permission, a wrong type): waiting will not mend it.
        if ((err as Error)?.name === "ReplyError") throw storeError(url, err, "nothing was read");
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      for (const entry of reply?.[0]?.[1] ?? []) {
        const message = entryMessage(entry);
        if (message !== undefined) h.message(message, undefined);
        position = entry[0];
      }
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    h.signal?.removeEventListener("abort", stop);
    stopping = true;
    client.disconnect();
  }
}

/** One XREAD BLOCK; a connection silent past SILENT_MS is dropped and made again (the read then fails and is retried). */
async function readOnce(client: Client, key: string, position: string): Promise<[string, Entry[]][] | null> {
  let timer: NodeJS.Timeout | undefined;
  const read = client.xread("COUNT", BATCH, "BLOCK", BLOCK_MS, "STREAMS", key, position) as Promise<[string, Entry[]][] | null>;
  try {
    return await Promise.race([
      read,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Its answer, if one ever comes, is not used: the next read starts from the same position.
          read.catch(() => {});
          client.disconnect(true);
          reject(new Error(`no answer within ${SILENT_MS} ms`));
        }, SILENT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
