// What does not run on the Redis store yet says so instead of watching files no message reaches:
// the dashboard refuses naming the store (without its password), and the rewake waiter steps
// aside at once so the mail waits for the next prompt (README "Across machines"). The wake daemon
// runs on Redis: test/store/redis-daemon.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bridge, makeRoot } from "../helpers/cli.ts";
import { hookEnv, runHookSync } from "../helpers/hooks.ts";

const URL_WITH_SECRET = "redis://bus:s3cret@127.0.0.1:1/0";

test("on Redis, the dashboard refuses with the store named (never its password) and what still works", (t) => {
  const as = { root: makeRoot(t), project: "shop", role: "web", env: { BRIDGE_URL: URL_WITH_SECRET } };
  for (const [args, what] of [[["dashboard"], "the dashboard"]] as const) {
    const r = bridge([...args], as);
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(`E_USAGE: ${what} works on the file store only, for now; BRIDGE_URL names redis://bus:\\*\\*\\*@127\\.0\\.0\\.1:1/0`),
    );
    assert.match(r.stderr, /messages reach each session at its next prompt/);
    assert.doesNotMatch(r.stderr, /s3cret/);
  }
  // Without BRIDGE_URL the same root runs the dashboard's usage path as before (the refusal is the store's).
  assert.equal(bridge(["dashboard", "--help"], { ...as, env: {} }).status, 0);
});

test("on Redis, hook wait exits 0 at once without a waiter (the mail waits for the next prompt)", (t) => {
  const root = makeRoot(t);
  const r = runHookSync("wait", hookEnv(root, "web", { BRIDGE_URL: URL_WITH_SECRET }), { hook_event_name: "Stop" });
  assert.equal(r.code, 0);
  assert.equal(r.stdout + r.stderr, "");
});
