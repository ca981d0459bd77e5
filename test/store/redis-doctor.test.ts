// `doctor` with BRIDGE_URL naming Redis: the connection, the bus user's access and the settings
// the promises lean on, including the Redis 7.0 pitfall of a `default` user that is off
// (redis/redis#14541: scripts replayed from the append-only file are dropped at restart).
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { bridge, makeRoot } from "../helpers/cli.ts";
import { freePort, startRedis } from "../helpers/redis.ts";

type Check = { level: string; detail: string; fix?: string };

function storeChecks(root: string, url: string): Record<string, Check> {
  const r = bridge(["doctor", "--json", "--config-dir", join(root, "..", "claude")], { root, project: "shop", env: { BRIDGE_URL: url } });
  const checks = r.json().checks as ({ name: string } & Check)[];
  return Object.fromEntries(
    checks.filter((c) => c.name.startsWith("store")).map((c) => [c.name, { level: c.level, detail: c.detail, fix: c.fix }]),
  );
}

test("doctor: the recommended setup passes; default user off, an evicting policy, no password, a lazy fsync are named", async (t) => {
  const root = makeRoot(t);
  const good = await startRedis(t, ["--requirepass", "long-secret", "--maxmemory-policy", "noeviction"], "long-secret");
  const ok = storeChecks(root, `redis://:long-secret@127.0.0.1:${good.port}`);
  assert.deepEqual(
    Object.fromEntries(Object.entries(ok).map(([k, v]) => [k, v.level])),
    { store: "ok", "store access": "ok", "store persistence": "ok", "store memory": "ok", "store ACL": "ok" },
    JSON.stringify(ok),
  );

  const offArgs = "--user default off --user bus on >pw ~* &* +@all --maxmemory-policy allkeys-lru".split(" ");
  const off = await startRedis(t, offArgs, ["bus", "pw"]);
  const bad = storeChecks(root, `redis://bus:pw@127.0.0.1:${off.port}`);
  assert.equal(bad["store memory"]!.level, "fail");
  assert.match(bad["store memory"]!.detail, /allkeys-lru/);
  assert.equal(bad["store ACL"]!.level, "fail");
  assert.match(bad["store ACL"]!.detail, /"default" is off.*redis\/redis#14541/);

  const open = await startRedis(t);
  assert.equal(storeChecks(root, open.url)["store ACL"]!.level, "warn");

  // Redis's own default: acknowledged writes may wait in its memory while an fsync runs.
  const lazy = await startRedis(t, ["--appendfsync", "everysec"]);
  const everysec = storeChecks(root, lazy.url)["store persistence"]!;
  assert.equal(everysec.level, "warn");
  assert.match(everysec.detail, /appendfsync everysec: .*a crash of redis-server .* loses it/);
  assert.match(everysec.fix!, /CONFIG SET appendfsync always/);
  const none = await startRedis(t, ["--appendonly", "no"]);
  const noAof = storeChecks(root, none.url)["store persistence"]!;
  assert.equal(noAof.level, "warn");
  assert.match(noAof.detail, /appendonly no: a restart of redis-server loses/);

  const away = storeChecks(root, `redis://127.0.0.1:${await freePort()}`);
  assert.deepEqual(Object.keys(away), ["store"]);
  assert.equal(away.store!.level, "fail");
});
