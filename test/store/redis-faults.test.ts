// The Redis store when things go wrong: an engine that is away, silent or refuses us; a backlog at
// its cap; a reader that dies holding the lease; a retried send; an ACL user confined to one
// project; redis-server itself killed and restarted. Each against a real redis-server.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { Socket } from "node:net";
import { test } from "node:test";
import type { Identity } from "../../src/bus.ts";
import { BridgeError } from "../../src/lib/errors.ts";
import { SEND } from "../../src/store/redis/scripts.ts";
import { openStore } from "../../src/store/store.ts";
import type { Store } from "../../src/store/store.ts";
import { bridge, makeRoot } from "../helpers/cli.ts";
import { freePort, startRedis } from "../helpers/redis.ts";

const LIMITS = { maxBodyBytes: 262144, fsync: false };
const READ = { by: "test", compactBytes: 1 << 20, historyFiles: 8 };
const as = (project: string, role: string): Identity => ({ root: "/nonexistent", project, role });
const send = (store: Store, from: Identity, to: string, body: string) =>
  store.send({ identity: from, to, body, stamp: { chain: "c1", hop: 0 }, limits: LIMITS });

async function codeOf(promise: Promise<unknown>): Promise<BridgeError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof BridgeError, String(err));
    return err;
  }
  assert.fail("expected a BridgeError");
}

test("an engine that is away: E_STORE naming the URL without its password, nothing sent", async (t) => {
  const root = makeRoot(t);
  const port = await freePort();
  const r = bridge(["send", "web", "hi", "--queue"], {
    root,
    project: "shop",
    role: "api",
    env: { BRIDGE_URL: `redis://bus:s3cret-pw@127.0.0.1:${port}` },
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /E_STORE: the store at redis:\/\/bus:\*\*\*@127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
  assert.match(r.stderr, /nothing was sent \(message m/);
  assert.doesNotMatch(r.stderr, /s3cret/);
  const recv = bridge(["recv"], { root, project: "shop", role: "web", env: { BRIDGE_URL: `redis://127.0.0.1:${port}` } });
  assert.equal(recv.status, 1);
  assert.match(recv.stderr, /nothing was consumed/);
});

test("an engine that accepts and never answers: E_STORE after about 2 s, not a hang", async (t) => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { port } = silent.address() as { port: number };
  const started = Date.now();
  const err = await codeOf((await openStore("/x", { BRIDGE_URL: `redis://127.0.0.1:${port}` })).peek(as("shop", "web")));
  assert.equal(err.code, "E_STORE");
  assert.match(err.message, /no answer within 2000 ms|timed? ?out/i);
  assert.match(err.message, /nothing was read/);
  // Generous: the budget is 2 s; a loaded machine may add some, a hang would be unbounded.
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
});

test("a wrong password or a bad URL: a clear error, the password never shown", async (t) => {
  const redis = await startRedis(t, ["--requirepass", "right-one"], "right-one");
  const err = await codeOf((await openStore("/x", { BRIDGE_URL: `redis://:wrong-one@127.0.0.1:${redis.port}` })).peek(as("shop", "web")));
  assert.equal(err.code, "E_STORE");
  assert.match(err.message, /WRONGPASS|invalid username-password/);
  assert.match(err.message, /check the user and password/);
  assert.doesNotMatch(err.message, /wrong-one/);
  const scheme = await codeOf(openStore("/x", { BRIDGE_URL: "http://h:p@example.invalid" }));
  assert.equal(scheme.code, "E_CONFIG");
  assert.doesNotMatch(scheme.message, /:p@/);
  const ok = await openStore("/x", { BRIDGE_URL: `redis://:right-one@127.0.0.1:${redis.port}` });
  assert.deepEqual((await ok.peek(as("shop", "web"))).messages, []);
  await ok.close();
});

test("a backlog at its cap refuses the send, naming the role and the cap; nothing is written", async (t) => {
  const redis = await startRedis(t);
  const store = await openStore("/x", { BRIDGE_URL: redis.url, BRIDGE_REDIS_MAX_UNREAD: "3" });
  t.after(() => store.close());
  await store.receive(as("shop", "web"), READ);
  for (let i = 0; i < 3; i++) await send(store, as("shop", "api"), "web", `m${i}`);
  const err = await codeOf(send(store, as("shop", "api"), "web", "one too many"));
  assert.equal(err.code, "E_BACKLOG");
  assert.match(err.message, /role "web" of project "shop" has 3 unread.*BRIDGE_REDIS_MAX_UNREAD=3.*nothing was sent/);
  assert.equal((await store.peek(as("shop", "web"))).messages.length, 3);
  await store.receive(as("shop", "web"), READ);
  await send(store, as("shop", "api"), "web", "room again");
});

test("a reader that dies after its claim: the next one gets the same messages, in order, marked redelivered", async (t) => {
  const redis = await startRedis(t);
  const env = { BRIDGE_URL: redis.url, BRIDGE_REDIS_LEASE_MS: "400" };
  const store = await openStore("/x", env);
  t.after(() => store.close());
  await store.receive(as("shop", "web"), READ);
  const ids = [];
  for (const body of ["a", "b", "c"]) ids.push((await send(store, as("shop", "api"), "web", body)).message.id);
  const dying = await openStore("/x", env);
  const died = await codeOf(
    dying.receive(as("shop", "web"), READ, () => {
      throw new BridgeError("E_IO", "killed while showing");
    }),
  );
  assert.equal(died.message, "killed while showing");
  await dying.close();
  // While its lease lasts nobody else takes them; once it has expired the next reader does.
  const next = await store.receive(as("shop", "web"), READ);
  assert.deepEqual(
    next.messages.map((m) => m.body),
    ["a", "b", "c"],
  );
  assert.deepEqual(next.redelivered, ids);
  const later = await send(store, as("shop", "api"), "web", "d");
  const after = await store.receive(as("shop", "web"), READ);
  assert.deepEqual(
    after.messages.map((m) => m.id),
    [later.message.id],
  );
  assert.deepEqual(after.redelivered, []);
});

test("a reader slower than its lease: its commit is refused (E_LEASE_LOST), the mail is delivered again", async (t) => {
  const redis = await startRedis(t);
  const env = { BRIDGE_URL: redis.url, BRIDGE_REDIS_LEASE_MS: "200" };
  const slow = await openStore("/x", env);
  const fast = await openStore("/x", env);
  t.after(async () => {
    await slow.close();
    await fast.close();
  });
  await fast.receive(as("shop", "web"), READ);
  await send(fast, as("shop", "api"), "web", "contested");
  let taken: string[] = [];
  const err = await codeOf(
    slow.receive(as("shop", "web"), READ, async () => {
      await new Promise((r) => setTimeout(r, 400));
      taken = (await fast.receive(as("shop", "web"), READ)).redelivered;
    }),
  );
  assert.equal(err.code, "E_LEASE_LOST");
  assert.match(err.message, /not marked read; they will be delivered again/);
  assert.equal(taken.length, 1);
  assert.equal((await fast.peek(as("shop", "web"))).messages.length, 0);
});

test("a send retried with the same id (a reconnect resending it) is stored once", async (t) => {
  const redis = await startRedis(t);
  const store = await openStore("/x", { BRIDGE_URL: redis.url });
  t.after(() => store.close());
  await send(store, as("shop", "api"), "web", "x").catch(() => undefined);
  await store.receive(as("shop", "web"), READ);
  const line = JSON.stringify({
    id: "mretry1",
    ts: new Date().toISOString(),
    project: "shop",
    from: "api",
    to: "web",
    body: "once",
    chain: "c",
    hop: 0,
  });
  const args = ["sb:{shop}:roles", "sb:{shop}:", "mretry1", line, "api", "web", "0", "100", "60", "{}"];
  const first = await redis.command("EVAL", SEND, "1", ...args);
  const second = await redis.command("EVAL", SEND, "1", ...args);
  assert.match(first, /ok/);
  assert.match(second, /dup/);
  const got = await store.receive(as("shop", "web"), READ);
  assert.deepEqual(
    got.messages.map((m) => m.body),
    ["once"],
  );
});

/** The README's bus user for one project, as redis-server arguments (each ACL rule its own argument). */
const BUS_USER = (project: string, password: string): string[] =>
  `--user sb-${project} on >${password} resetkeys ~sb:{${project}}:* resetchannels &sb:{${project}}:* -@all +@read +@write +@stream +eval +evalsha +time +info +ping +publish +subscribe`.split(
    " ",
  );

test("an ACL user confined to one project: its own project works, another is refused and untouched", async (t) => {
  const redis = await startRedis(t, ["--requirepass", "admin-only-secret", ...BUS_USER("shop", "shop-pw")], "admin-only-secret");
  const shop = await openStore("/x", { BRIDGE_URL: `redis://sb-shop:shop-pw@127.0.0.1:${redis.port}` });
  t.after(() => shop.close());
  await shop.receive(as("shop", "web"), READ);
  const sent = await send(shop, as("shop", "api"), "web", "inside");
  assert.deepEqual(
    (await shop.receive(as("shop", "web"), READ)).messages.map((m) => m.id),
    [sent.message.id],
  );
  const err = await codeOf(send(shop, as("bank", "api"), "web", "outside"));
  assert.equal(err.code, "E_STORE");
  assert.match(err.message, /NOPERM|no permissions/);
  assert.match(err.message, /nothing was sent/);
  assert.match(await redis.command("EXISTS", "sb:{bank}:roles"), /^:0/);
});

test("redis-server killed with SIGKILL and restarted (recommended config): nothing acknowledged is lost", async (t) => {
  const redis = await startRedis(
    t,
    ["--requirepass", "admin-only-secret", ...BUS_USER("shop", "shop-pw"), "--maxmemory-policy", "noeviction"],
    "admin-only-secret",
  );
  const env = { BRIDGE_URL: `redis://sb-shop:shop-pw@127.0.0.1:${redis.port}` };
  let store = await openStore("/x", env);
  await store.receive(as("shop", "web"), READ);
  const acked: string[] = [];
  for (let i = 0; i < 100; i++) acked.push((await send(store, as("shop", "api"), "web", `n${i}`)).message.id);
  const consumed = (await store.receive(as("shop", "web"), { ...READ, accept: (_m, n) => n < 40 })).messages.map((m) => m.id);
  assert.equal(consumed.length, 40);
  await store.close();
  await redis.kill9();
  await redis.restart();
  store = await openStore("/x", env);
  t.after(() => store.close());
  const rest = await store.receive(as("shop", "web"), READ);
  assert.deepEqual([...consumed, ...rest.messages.map((m) => m.id)], acked);
  assert.equal((await store.status("shop", consumed[0]!)).recipients[0]!.state, "read");
});
