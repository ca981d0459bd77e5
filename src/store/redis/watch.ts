// Noticing change on Redis for the dashboard: XREAD BLOCK over the inbox streams of the projects
// shown, on a connection of its own (iovalkey 0.4.0's `commandTimeout` also cuts a blocking read:
// ./connect.ts), so a new message is announced at once; every `pollMs` without one it announces
// anyway, for what no stream entry marks (a read, a session refreshed or gone). XREAD rather than
// the `wake` channel: the ACL the README recommends gives the bus user the @read commands but not
// SUBSCRIBE, and streams keep what a subscriber would miss while disconnected. Only the keys of
// the projects named are touched (a user confined to `~sb:{P}:*` sees nothing else).
import { validateName } from "../../bus/names.ts";
import type { StoreWatch } from "../types.ts";
import type { RedisUrl } from "../url.ts";
import { connectRedis } from "./connect.ts";
import type { Client } from "./connect.ts";

type Entry = [string, string[]];

export function watchRedis(url: RedisUrl, env: NodeJS.ProcessEnv, projects: string[], changed: () => void, pollMs: number): StoreWatch {
  const prefixes = projects.map((p) => `sb:{${validateName("project", p)}}:`);
  /** Inbox stream key → the newest entry id seen. */
  const last = new Map<string, string>();
  let client: Client | undefined;
  let closed = false;
  let pause: NodeJS.Timeout | undefined;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      pause = setTimeout(resolve, ms);
    });

  /** Puts each role's inbox under watch from its newest entry; true when a role was new. */
  const addRoles = async (c: Client): Promise<boolean> => {
    let added = false;
    for (const p of prefixes) {
      for (const role of await c.smembers(`${p}roles`)) {
        const key = `${p}in:${role}`;
        if (last.has(key)) continue;
        const newest = (await c.xrevrange(key, "+", "-", "COUNT", 1)) as Entry[];
        last.set(key, newest[0]?.[0] ?? "0-0");
        added = true;
      }
    }
    return added;
  };

  const loop = async (): Promise<void> => {
    while (!closed) {
      try {
        client ??= await connectRedis(url, env, { nothing: "nothing was read", subscriber: true });
        // A role that joined since the last look may already hold mail: say so once it is watched.
        if (await addRoles(client)) changed();
        if (last.size === 0) {
          await sleep(pollMs);
        } else {
          const keys = [...last.keys()];
          const reply = (await client.xread("COUNT", 100, "BLOCK", pollMs, "STREAMS", ...keys, ...keys.map((k) => last.get(k)!))) as
            | [string, Entry[]][]
            | null;
          for (const [key, entries] of reply ?? []) {
            const newest = entries.at(-1)?.[0];
            if (newest !== undefined) last.set(key, newest);
          }
        }
        if (!closed) changed();
      } catch {
        if (closed) return;
        // The engine is away: the snapshot says so (its own reads fail); look again shortly.
        client?.disconnect();
        client = undefined;
        changed();
        await sleep(Math.min(pollMs, 1000));
      }
    }
  };
  void loop();

  return {
    close() {
      closed = true;
      clearTimeout(pause);
      client?.disconnect();
      client = undefined;
    },
  };
}
