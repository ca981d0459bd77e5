// The "redis" bundle (src/runtime/bundles.json): the store and doctor's checks, one copy of the client.
export { openRedisStore } from "./store.ts";
export { checkRedis } from "./doctor.ts";
export { openWakeBook } from "./wake.ts";
export type { RoleMark, WakeBook, WakeListener, WakeRead } from "./wake.ts";
