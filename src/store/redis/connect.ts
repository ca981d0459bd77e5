// One connection to the Redis server BRIDGE_URL names, made with iovalkey 0.4.0 (RESP2). What
// the client does on its own, seen with 0.4.0: a failed connect() rejects with only "Connection
// is closed", so the last "error" event is kept for the message; `commandTimeout` also cuts a
// blocking read (a subscriber needs a connection of its own). The first connect gets one try and
// ~2 s in all: a hook must never hold a prompt for an engine that is away.
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { Redis } from "iovalkey";
import { BridgeError, describeError } from "../../lib/errors.ts";
import type { RedisUrl } from "../url.ts";

export const CONNECT_BUDGET_MS = 2000;

export type Client = Redis;

export interface ConnectOptions {
  /** What a failure means for the caller: "nothing was sent", "nothing was consumed". */
  nothing: string;
  /** For a subscriber: no command timeout. */
  subscriber?: boolean;
  /** For the wake daemon's commands: keep retrying a lost connection for as long as it runs (a hook gives up). */
  persistent?: boolean;
}

/** Connects (and proves the server answers, with the client's ready check); E_STORE within ~2 s otherwise. */
export async function connectRedis(url: RedisUrl, env: NodeJS.ProcessEnv, options: ConnectOptions): Promise<Client> {
  let lastError: unknown;
  let ready = false;
  const ca = env.BRIDGE_REDIS_CA ? readCa(env.BRIDGE_REDIS_CA, url) : undefined;
  const client = new Redis({
    host: url.host,
    port: url.port,
    ...(url.username !== undefined && { username: url.username }),
    ...(url.password !== undefined && { password: url.password }),
    db: url.db,
    // SNI takes a host name only (Node warns on an IP); an IP is still checked against the certificate.
    ...(url.tls && { tls: { ...(isIP(url.host) === 0 && { servername: url.host }), ...(ca && { ca }) } }),
    lazyConnect: true,
    connectTimeout: CONNECT_BUDGET_MS - 500,
    ...(!options.subscriber && { commandTimeout: CONNECT_BUDGET_MS }),
    maxRetriesPerRequest: 1,
    // Once connected, a dropped connection is retried a few times; commands in flight are sent
    // again on reconnect (a send is idempotent by its message id, a commit by its token).
    retryStrategy: (times: number) =>
      ready && (options.subscriber || options.persistent || times <= 3) ? Math.min(100 * times, 1000) : null,
  });
  client.on("error", (err: unknown) => {
    lastError = err;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_BUDGET_MS} ms`)), CONNECT_BUDGET_MS);
      }),
    ]);
    ready = true;
    return client;
  } catch (err) {
    client.disconnect();
    throw storeError(url, lastError ?? err, options.nothing);
  } finally {
    clearTimeout(timer);
  }
}

function readCa(path: string, url: RedisUrl): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new BridgeError("E_CONFIG", `BRIDGE_REDIS_CA ${path} (for ${url.shown}) cannot be read (${describeError(err)})`);
  }
}

/** E_STORE naming the URL without its password, the cause, and what did not happen. */
export function storeError(url: RedisUrl, err: unknown, nothing: string): BridgeError {
  if (err instanceof BridgeError) return err;
  let cause = describeError(err);
  if (url.password) cause = cause.split(url.password).join("***");
  const hint = /WRONGPASS|NOAUTH|invalid username-password/i.test(cause)
    ? " (check the user and password in BRIDGE_URL)"
    : /NOPERM|no permissions/i.test(cause)
      ? ' (the ACL user lacks a key or command the bus needs: see README "Across machines")'
      : /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|no answer|Connection is closed/i.test(cause)
        ? " (is redis-server running there, and reachable from this machine?)"
        : "";
  return new BridgeError("E_STORE", `the store at ${url.shown} failed: ${cause}${hint}; ${nothing}`);
}
