// The store every face goes through: the file store under the bridge root (src/bus.ts over
// src/bus/), or, when BRIDGE_URL names one, a Redis server (src/store/redis/, loaded only then:
// its client is a bundle of its own, so a hook of a file-store session never loads it).
import { fileStore } from "./file.ts";
import type { Store, StoreCheck } from "./types.ts";
import { parseRedisUrl, storeUrlOf } from "./url.ts";

export type { Deliver, FollowHandlers, ReceiveOptions, Received, Store, StoreWatch } from "./types.ts";

/** The store BRIDGE_URL names (unset: the file store under `root`). */
export async function openStore(root: string, env: NodeJS.ProcessEnv): Promise<Store> {
  const raw = storeUrlOf(env);
  if (raw === undefined) return fileStore(root);
  const url = parseRedisUrl(raw);
  const { openRedisStore } = await import("./redis/index.ts");
  return openRedisStore(url, env);
}

/** Which store is in use, said without connecting (for `root`). */
export function describeStore(root: string, env: NodeJS.ProcessEnv): { kind: "file" | "redis"; where: string } {
  const raw = storeUrlOf(env);
  return raw === undefined ? { kind: "file", where: root } : { kind: "redis", where: parseRedisUrl(raw).shown };
}

/** `doctor`'s checks of the store: none for the file store (doctor checks its folder), the server's for Redis. */
export async function storeChecks(env: NodeJS.ProcessEnv): Promise<StoreCheck[]> {
  const raw = storeUrlOf(env);
  if (raw === undefined) return [];
  const { checkRedis } = await import("./redis/index.ts");
  return checkRedis(parseRedisUrl(raw), env);
}
