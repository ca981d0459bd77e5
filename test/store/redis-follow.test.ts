// `tail --follow` on the Redis store, through the built binary: the history, then the live
// messages, each printed once across the switch and across a kill -9 and restart of
// redis-server; an engine away at the start is E_STORE naming the URL without its password.
import assert from "node:assert/strict";
import { test } from "node:test";
import { openStore } from "../../src/store/store.ts";
import { bridge, bridgeAsync, makeRoot, waitUntil } from "../helpers/cli.ts";
import { freePort, startRedis } from "../helpers/redis.ts";

const LIMITS = { maxBodyBytes: 262144, fsync: false };

test("tail --follow on Redis: history then live, in order, each message once across the switch; --json lines parse", async (t) => {
  const redis = await startRedis(t);
  const as = { root: makeRoot(t), project: "shop", role: "web", env: { BRIDGE_URL: redis.url } };
  const store = await openStore("/x", { BRIDGE_URL: redis.url });
  t.after(() => store.close());
  const api = { root: "/x", project: "shop", role: "api" };
  const send = (body: string) => store.send({ identity: api, to: "web", body, queue: true, stamp: { chain: "c", hop: 0 }, limits: LIMITS });
  for (let i = 0; i < 10; i++) await send(`n${i}`);

  const follow = bridgeAsync(["tail", "3", "--follow", "--json"], as);
  t.after(() => follow.child.kill("SIGKILL"));
  // Sends go on while the follower starts: whichever land during its switch from history to live
  // must be printed exactly once, with no gap.
  let n = 10;
  while (!/"body":"n\d+"/.test(follow.stdout) || n < 40) {
    await send(`n${n++}`);
    if (n > 5000) assert.fail(`the follower printed nothing; stderr:\n${follow.stderr}`);
  }
  for (let i = 0; i < 20; i++) await send(`n${n++}`);
  const lastBody = `n${n - 1}`;
  await follow.waitFor(new RegExp(`"body":"${lastBody}"`), 30_000);
  const lines = follow.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { body: string; read?: boolean; from: string });
  const numbers = lines.map((l) => Number(l.body.slice(1)));
  const first = numbers[0]!;
  assert.deepEqual(
    numbers,
    Array.from({ length: n - first }, (_, i) => first + i),
    "every message from the history's first on, once, in order",
  );
  // The history (3 messages, as asked) says read or unread; the live messages are just messages.
  assert.deepEqual(
    lines.map((l) => l.read),
    [false, false, false, ...lines.slice(3).map(() => undefined)],
  );
  assert.ok(lines.every((l) => l.from === "api"));
  follow.child.kill("SIGINT");
  assert.equal(await follow.exited, 0);
  assert.equal((await store.peek({ ...api, role: "web" })).messages.length, n, "tail never consumes");
});

test("tail --follow on Redis survives a kill -9 and restart of redis-server: reports the outage, prints what came after, nothing twice", async (t) => {
  const redis = await startRedis(t);
  const root = makeRoot(t);
  const as = { root, project: "shop", env: { BRIDGE_URL: redis.url } };
  assert.equal(bridge(["send", "web", "before", "--queue"], { ...as, role: "api" }).status, 0);
  const follow = bridgeAsync(["tail", "--follow"], { ...as, role: "web" });
  t.after(() => follow.child.kill("SIGKILL"));
  await follow.waitFor(/\n {2}before\n/);
  assert.equal(bridge(["send", "web", "live one"], { ...as, role: "api" }).status, 0);
  await follow.waitFor(/live one/);
  await redis.kill9();
  await waitUntil(
    () => /went away/.test(follow.stderr),
    20_000,
    () => `no outage line on stderr:\n${follow.stderr}`,
  );
  assert.match(follow.stderr, new RegExp(`the store at ${redis.url.replace(/\./g, "\\.")} went away`));
  await redis.restart();
  await waitUntil(
    () => /is back/.test(follow.stderr),
    30_000,
    () => `no line saying the store is back:\n${follow.stderr}`,
  );
  const sent = bridge(["send", "web", "after the restart"], { ...as, role: "api" });
  assert.equal(sent.status, 0, sent.stderr);
  await follow.waitFor(/after the restart/, 30_000);
  follow.child.kill("SIGINT");
  assert.equal(await follow.exited, 0);
  for (const body of ["before", "live one", "after the restart"])
    assert.equal(follow.stdout.split(`\n  ${body}\n`).length - 1, 1, `"${body}" printed once:\n${follow.stdout}`);
  assert.ok(follow.stdout.indexOf("live one") < follow.stdout.indexOf("after the restart"));
});

test("tail --follow on Redis with the engine away at the start: E_STORE naming the URL without its password", async (t) => {
  const url = `redis://bus:s3cret@127.0.0.1:${await freePort()}`;
  const started = Date.now();
  const r = bridge(["tail", "--follow"], { root: makeRoot(t), project: "shop", role: "web", env: { BRIDGE_URL: url } });
  const took = Date.now() - started;
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /E_STORE: the store at redis:\/\/bus:\*\*\*@127\.0\.0\.1:\d+ failed: .*nothing was read/);
  assert.doesNotMatch(r.stderr + r.stdout, /s3cret/);
  // The connect budget is 2 s; a follower that hung instead would be killed by bridge()'s 60 s timeout (status null).
  t.diagnostic(`refused after ${took} ms`);
});

test("tail --follow on Redis into a pipe closed by its reader (| head) ends quietly with 0", async (t) => {
  const redis = await startRedis(t);
  const as = { root: makeRoot(t), project: "shop", env: { BRIDGE_URL: redis.url } };
  assert.equal(bridge(["send", "web", "first", "--queue"], { ...as, role: "api" }).status, 0);
  const follow = bridgeAsync(["tail", "--follow"], { ...as, role: "web" });
  t.after(() => follow.child.kill("SIGKILL"));
  await follow.waitFor(/first/);
  follow.child.stdout.destroy();
  // The next message printed meets the closed pipe.
  assert.equal(bridge(["send", "web", "second"], { ...as, role: "api" }).status, 0);
  assert.equal(await follow.exited, 0);
  assert.equal(follow.stderr, "");
});
