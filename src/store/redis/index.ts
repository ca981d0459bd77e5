// The "redis" bundle (src/runtime/bundles.json): the store and doctor's checks, one copy of the client.
export { openRedisStore } from "./store.ts";
export { checkRedis } from "./doctor.ts";
