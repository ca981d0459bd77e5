// The BRIDGE_* variables session-bridge reads, and the one check every hook makes before anything
// else: does this session carry any identity variable at all? Part of the entry that every hook of
// every session parses (src/hooks.ts), so it reads nothing but the environment.

/** Every BRIDGE_* variable session-bridge reads; any other BRIDGE_* name is taken for a typo. */
export const KNOWN_VARIABLES: readonly string[] = [
  "BRIDGE_PROJECT",
  "BRIDGE_ROLE",
  "BRIDGE_ROOT",
  "BRIDGE_ADMIN",
  "BRIDGE_AUTOSEND",
  "BRIDGE_SEND_TO",
  "BRIDGE_BLOCK_GIT",
  "BRIDGE_BLOCK_GIT_ALL",
  "BRIDGE_CHAIN",
  "BRIDGE_HOP",
  "BRIDGE_SPAWNER_RESCAN_MS",
  "BRIDGE_DASHBOARD_HEARTBEAT_MS",
  "BRIDGE_DASHBOARD_POLL_MS",
  // The Redis store (src/store/): where it is, its CA, and its limits.
  "BRIDGE_URL",
  "BRIDGE_REDIS_CA",
  "BRIDGE_REDIS_LEASE_MS",
  "BRIDGE_REDIS_MAX_UNREAD",
  "BRIDGE_REDIS_KEEP",
];

/**
 * True when the session has any identity variable: BRIDGE_PROJECT, BRIDGE_ROLE, or a BRIDGE_* name
 * we do not know. An empty value counts as unset. The one check a hook makes outside a bridged
 * session, so it touches nothing but the environment.
 */
export function hasIdentityVariables(env: NodeJS.ProcessEnv): boolean {
  if (env.BRIDGE_PROJECT || env.BRIDGE_ROLE) return true;
  for (const key in env) if (key.startsWith("BRIDGE_") && env[key] && !KNOWN_VARIABLES.includes(key)) return true;
  return false;
}

/** BRIDGE_* variables with a value that session-bridge does not read. */
export function unknownVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((key) => key.startsWith("BRIDGE_") && env[key] && !KNOWN_VARIABLES.includes(key))
    .sort();
}

/** BRIDGE_URL, which names the Redis store (src/store/url.ts); unset or blank is the file store. */
export function storeUrlOf(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.BRIDGE_URL?.trim();
  return value ? value : undefined;
}
