// Which store BRIDGE_URL names, read without loading any client: unset or empty is the file
// store under the bridge root; redis:// or rediss:// (TLS) is a Redis server. The password never
// leaves this file except inside the URL given to the client: every message shows `shown`.
import { BridgeError } from "../lib/errors.ts";

export interface RedisUrl {
  /** The URL as given (with its password), for the client only. */
  url: string;
  tls: boolean;
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  /** The URL without its password, for messages, logs and `root`. */
  shown: string;
}

// In lib/ so that the hook dispatcher (src/hooks.ts), part of the entry, can ask without this file.
export { storeUrlOf } from "../lib/env.ts";

/** Parses a redis:// or rediss:// URL; E_CONFIG names what is wrong (never the password). */
export function parseRedisUrl(raw: string): RedisUrl {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new BridgeError(
      "E_CONFIG",
      `BRIDGE_URL is not a URL (${redactLoose(raw)}); use redis://[user:password@]host[:port][/db] or rediss://… for TLS, or unset it for the file store`,
    );
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new BridgeError(
      "E_CONFIG",
      `BRIDGE_URL ${redact(u)} uses ${u.protocol.replace(/:$/, "")}://, which is not a store; use redis:// or rediss:// (TLS), or unset BRIDGE_URL for the file store`,
    );
  }
  const dbText = u.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    throw new BridgeError("E_CONFIG", `BRIDGE_URL ${redact(u)}: the database "${dbText}" is not a number`);
  const port = u.port === "" ? 6379 : Number(u.port);
  return {
    url: raw,
    tls: u.protocol === "rediss:",
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port,
    ...(u.username && { username: decodeURIComponent(u.username) }),
    ...(u.password && { password: decodeURIComponent(u.password) }),
    db,
    shown: redact(u),
  };
}

function redact(u: URL): string {
  const user = u.username ? `${u.username}${u.password ? ":***" : ""}@` : u.password ? ":***@" : "";
  return `${u.protocol}//${user}${u.host}${u.pathname === "/" ? "" : u.pathname}`;
}

/** A string that did not parse as a URL, with anything between "//" and "@" hidden. */
function redactLoose(raw: string): string {
  return JSON.stringify(raw.replace(/\/\/[^@/]*@/, "//***@"));
}
