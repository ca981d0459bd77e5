// doctor's reading of a Redis server's settings when CONFIG GET answers for some and not others,
// as a managed or proxied server may: a fake reader stands in for the client, since a real
// redis-server either answers every CONFIG GET or refuses them all (test/store/redis-doctor.test.ts
// covers those against a real one).
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkConfig } from "../../src/store/redis/doctor.ts";
import type { ConfigReader } from "../../src/store/redis/doctor.ts";
import type { StoreCheck } from "../../src/store/types.ts";

const RECOMMENDED = { appendonly: "yes", appendfsync: "always", "maxmemory-policy": "noeviction" };

/** A server that returns only the settings in `shown` (an empty reply for the rest, as CONFIG GET of an unknown name). */
function serverShowing(shown: Record<string, string>): ConfigReader {
  return {
    config: async (_op, key) => (key in shown ? [key, shown[key]] : []),
  };
}

const named = (checks: StoreCheck[], name: string): StoreCheck => {
  const found = checks.find((check) => check.name === name);
  assert.ok(found, `no "${name}" check in ${JSON.stringify(checks)}`);
  return found;
};

const without = (key: keyof typeof RECOMMENDED): Record<string, string> => {
  const shown: Record<string, string> = { ...RECOMMENDED };
  delete shown[key];
  return shown;
};

test("doctor's Redis settings: every one readable and as recommended passes", async () => {
  const checks = await checkConfig(serverShowing(RECOMMENDED));
  assert.deepEqual(
    checks.map((check) => [check.name, check.level]),
    [
      ["store persistence", "ok"],
      ["store memory", "ok"],
    ],
  );
});

test("doctor's Redis settings: one the server does not return is named unread, with what to make sure of", async () => {
  const noAof = await checkConfig(serverShowing(without("appendonly")));
  const persistence = named(noAof, "store persistence");
  assert.equal(persistence.level, "warn");
  assert.match(
    persistence.detail,
    /^appendonly could not be read \(CONFIG GET returned no value\): make sure of appendonly yes and appendfsync always/,
  );
  assert.match(persistence.fix ?? "", /CONFIG SET appendonly yes, CONFIG SET appendfsync always/);
  assert.equal(named(noAof, "store memory").level, "ok");

  const noFsync = named(await checkConfig(serverShowing(without("appendfsync"))), "store persistence");
  assert.equal(noFsync.level, "warn");
  assert.match(noFsync.detail, /^appendonly yes, appendfsync could not be read/);
  assert.match(noFsync.fix ?? "", /CONFIG SET appendfsync always/);

  const noPolicy = await checkConfig(serverShowing(without("maxmemory-policy")));
  const memory = named(noPolicy, "store memory");
  // Unread is not known to be wrong: a warning, where a policy read as evicting fails.
  assert.equal(memory.level, "warn");
  assert.match(memory.detail, /^maxmemory-policy could not be read .*make sure of noeviction yourself/);
  assert.match(memory.fix ?? "", /CONFIG SET maxmemory-policy noeviction/);
  assert.equal(named(noPolicy, "store persistence").level, "ok");

  const evicting = named(await checkConfig(serverShowing({ ...RECOMMENDED, "maxmemory-policy": "allkeys-lru" })), "store memory");
  assert.equal(evicting.level, "fail");
  assert.match(evicting.detail, /^maxmemory-policy allkeys-lru: a full server may evict inboxes/);

  for (const checks of [noAof, noPolicy]) for (const check of checks) assert.doesNotMatch(check.detail, /undefined/);
});

test("doctor's Redis settings: a server that refuses CONFIG GET gets one line saying what to make sure of", async () => {
  const refusing: ConfigReader = {
    config: async () => {
      throw new Error("NOPERM this user has no permissions to run the 'config|get' command");
    },
  };
  const checks = await checkConfig(refusing);
  assert.equal(checks.length, 1);
  assert.equal(checks[0]?.level, "info");
  assert.match(
    checks[0]?.detail ?? "",
    /may not read the server's config \(CONFIG GET\): make sure of appendonly yes, appendfsync always and maxmemory-policy noeviction/,
  );
});
