// What does not run on the Redis store yet steps aside instead of watching files no message
// reaches: the rewake waiter exits at once so the mail waits for a daemon's wake or the next prompt
// (README "Across machines"). The wake daemon, `tail --follow` and the dashboard run on Redis:
// test/store/redis-daemon.test.ts, redis-follow.test.ts, test/dashboard/dashboard-redis.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { makeRoot } from "../helpers/cli.ts";
import { hookEnv, runHookSync } from "../helpers/hooks.ts";

const URL_WITH_SECRET = "redis://bus:s3cret@127.0.0.1:1/0";

test("on Redis, hook wait exits 0 at once without a waiter (the mail waits for the next prompt)", (t) => {
  const root = makeRoot(t);
  const r = runHookSync("wait", hookEnv(root, "web", { BRIDGE_URL: URL_WITH_SECRET }), { hook_event_name: "Stop" });
  assert.equal(r.code, 0);
  assert.equal(r.stdout + r.stderr, "");
});
