// What `doctor` checks of the Redis store BRIDGE_URL names: that it answers, that its user may
// run the bus's scripts, and the server settings the promises lean on (an append-only file
// written and fsynced before each answer, noeviction), with the Redis 7.0 pitfall that loses every
// acknowledged send on restart when the `default` user is off (redis/redis#14541; README "Across
// machines").
import { describeError } from "../../lib/errors.ts";
import type { RedisUrl } from "../url.ts";
import { connectRedis } from "./connect.ts";
import type { Client } from "./connect.ts";
import { openRedisStore } from "./store.ts";
import type { StoreCheck } from "../types.ts";

const GUIDE = 'README "Across machines"';

export async function checkRedis(url: RedisUrl, env: NodeJS.ProcessEnv): Promise<StoreCheck[]> {
  let client: Client;
  try {
    client = await connectRedis(url, env, { nothing: "nothing was read or written" });
  } catch (err) {
    return [{ name: "store", level: "fail", detail: describeError(err), fix: `start redis-server there, or fix BRIDGE_URL (${GUIDE})` }];
  }
  const checks: StoreCheck[] = [];
  try {
    const info = String(await client.info("server").catch(() => ""));
    const version = /redis_version:([\d.]+)/.exec(info)?.[1] ?? "unknown";
    checks.push({ name: "store", level: "ok", detail: `${url.shown} answers (Redis ${version}${url.tls ? ", TLS" : ""})` });
    checks.push(await checkScripts(url, env));
    checks.push(...(await checkConfig(client)));
    checks.push(await checkDefaultUser(client, version));
  } finally {
    client.disconnect();
  }
  return checks;
}

async function checkScripts(url: RedisUrl, env: NodeJS.ProcessEnv): Promise<StoreCheck> {
  const project = env.BRIDGE_PROJECT;
  if (!project) return { name: "store access", level: "info", detail: "set BRIDGE_PROJECT to check that this user may use its project" };
  const store = openRedisStore(url, env);
  try {
    await store.roles(project);
    return {
      name: "store access",
      level: "ok",
      detail: `this user may run the bus's scripts on project "${project}" (keys sb:{${project}}:*)`,
    };
  } catch (err) {
    return {
      name: "store access",
      level: "fail",
      detail: describeError(err),
      fix: `grant the user the bus's keys, channel and commands (ACL SETUSER, ${GUIDE})`,
    };
  } finally {
    await store.close();
  }
}

/** What checkConfig needs of a client: CONFIG GET (a fake one in test/store/redis-doctor-config.test.ts). */
export interface ConfigReader {
  config(op: "GET", key: string): Promise<unknown>;
}

// A server may answer CONFIG GET for some settings and not others (a managed or proxied Redis
// hides some): a setting it did not return is named as unread, never shown as "undefined".
const UNREAD = "could not be read (CONFIG GET returned no value)";

async function configValue(client: ConfigReader, key: string): Promise<string | undefined> {
  try {
    const reply = (await client.config("GET", key)) as string[];
    return reply[1];
  } catch {
    return undefined;
  }
}

export async function checkConfig(client: ConfigReader): Promise<StoreCheck[]> {
  const aof = await configValue(client, "appendonly");
  const fsync = await configValue(client, "appendfsync");
  const policy = await configValue(client, "maxmemory-policy");
  if (aof === undefined && policy === undefined)
    return [
      {
        name: "store persistence",
        level: "info",
        detail:
          "this user may not read the server's config (CONFIG GET): make sure of appendonly yes, appendfsync always and maxmemory-policy noeviction yourself",
      },
    ];
  return [persistenceCheck(aof, fsync), memoryCheck(policy)];
}

function memoryCheck(policy: string | undefined): StoreCheck {
  const fix = "redis-cli CONFIG SET maxmemory-policy noeviction (and in redis.conf)";
  if (policy === "noeviction")
    return { name: "store memory", level: "ok", detail: "maxmemory-policy noeviction: a full server refuses sends, never drops mail" };
  if (policy === undefined)
    return {
      name: "store memory",
      level: "warn",
      detail: `maxmemory-policy ${UNREAD}: make sure of noeviction yourself, or a full server may evict inboxes`,
      fix,
    };
  return {
    name: "store memory",
    level: "fail",
    detail: `maxmemory-policy ${policy}: a full server may evict inboxes, losing unread mail`,
    fix,
  };
}

// With `appendfsync everysec` (Redis's default) the server acknowledges a write before it is in
// the append-only file whenever the previous fsync is still running: it holds the write in its own
// memory for up to 2 s, so a kill -9 of redis-server then loses acknowledged sends (as
// test/store/redis-crash.test.ts did under disk load). Only `always` writes and fsyncs before it
// answers (README "Across machines").
function persistenceCheck(aof: string | undefined, fsync: string | undefined): StoreCheck {
  if (aof !== "yes")
    return {
      name: "store persistence",
      level: "warn",
      detail:
        aof === undefined
          ? `appendonly ${UNREAD}: make sure of appendonly yes and appendfsync always yourself, or a restart of redis-server loses what was sent since its last snapshot`
          : `appendonly ${aof}: a restart of redis-server loses what was sent since its last snapshot`,
      fix: "redis-cli CONFIG SET appendonly yes, CONFIG SET appendfsync always (and in redis.conf)",
    };
  if (fsync === "always")
    return {
      name: "store persistence",
      level: "ok",
      detail: "appendonly yes, appendfsync always: an acknowledged send survives a crash of redis-server or of the machine",
    };
  return {
    name: "store persistence",
    level: "warn",
    detail: `appendonly yes, appendfsync ${fsync ?? UNREAD}: redis-server may acknowledge a send it has not yet written to its file (while the disk is busy, up to 2 s), and a crash of redis-server or of the machine then loses it`,
    fix: "redis-cli CONFIG SET appendfsync always (and in redis.conf)",
  };
}

async function checkDefaultUser(client: Client, version: string): Promise<StoreCheck> {
  const risky = version.startsWith("7.0.");
  let flags: string[] | undefined;
  try {
    const reply = (await client.call("ACL", "GETUSER", "default")) as unknown[];
    const at = reply.indexOf("flags");
    flags = at >= 0 ? (reply[at + 1] as string[]) : undefined;
  } catch {
    flags = undefined;
  }
  const pitfall = `Redis ${version} replays scripts from the append-only file as the default user, and drops them when it is off: every acknowledged send vanishes at restart (redis/redis#14541)`;
  if (flags === undefined)
    return {
      name: "store ACL",
      level: risky ? "warn" : "info",
      detail: `cannot see whether user "default" is off (ACL GETUSER denied)${risky ? `; on ${pitfall}` : ""}`,
      ...(risky && { fix: `keep user "default" on, with a long secret given to no one (${GUIDE})` }),
    };
  if (flags.includes("off") && risky)
    return {
      name: "store ACL",
      level: "fail",
      detail: `user "default" is off: ${pitfall}`,
      fix: `ACL SETUSER default on >LONG-SECRET (${GUIDE})`,
    };
  if (flags.includes("on") && flags.includes("nopass"))
    return {
      name: "store ACL",
      level: "warn",
      detail: 'user "default" is on without a password: anyone who reaches the port may read and send every message',
      fix: `requirepass LONG-SECRET in redis.conf, and a bus user per project (${GUIDE})`,
    };
  return { name: "store ACL", level: "ok", detail: `user "default" is ${flags.includes("off") ? "off" : "on, with a password"}` };
}
