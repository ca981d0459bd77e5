// The bus's behaviour, the same tests run against both stores through the Store interface every
// face uses: the file store (BRIDGE_URL unset) and a real redis-server (test/helpers/redis.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { TestContext } from "node:test";
import type { Identity } from "../../src/bus.ts";
import { BridgeError } from "../../src/lib/errors.ts";
import { openStore } from "../../src/store/store.ts";
import type { Store } from "../../src/store/store.ts";
import { makeRoot } from "../helpers/cli.ts";
import { waitFor } from "../helpers/poll.ts";
import { startRedis } from "../helpers/redis.ts";

const LIMITS = { maxBodyBytes: 262144, fsync: false };
const READ = { by: "test", compactBytes: 1 << 20, historyFiles: 8 };

interface Room {
  store: Store;
  /** Another, independent store on the same data (a second process). */
  other(): Promise<Store>;
  as(role: string): Identity;
  project: string;
}

type Case = (room: Room) => Promise<void>;

async function send(store: Store, from: Identity, to: string, body: string, queue = false) {
  return store.send({ identity: from, to, body, queue, stamp: { chain: "c1", hop: 0 }, limits: LIMITS });
}

async function rejects(promise: Promise<unknown>, code: string): Promise<BridgeError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof BridgeError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

const CASES: Record<string, Case> = {
  "a message sent is received once, then the inbox is empty": async ({ store, as }) => {
    await store.receive(as("b"), READ);
    const sent = await send(store, as("a"), "b", "hello");
    assert.deepEqual(
      sent.deliveries.map((d) => d.role),
      ["b"],
    );
    const got = await store.receive(as("b"), READ);
    assert.deepEqual(
      got.messages.map((m) => [m.id, m.body, m.from, m.to]),
      [[sent.message.id, "hello", "a", "b"]],
    );
    assert.deepEqual(got.redelivered, []);
    assert.equal((await store.receive(as("b"), READ)).messages.length, 0);
  },
  "order per sender is kept over many messages": async ({ store, as }) => {
    await store.receive(as("b"), READ);
    for (let i = 0; i < 60; i++) await send(store, as("a"), "b", `n${i}`);
    const got = await store.receive(as("b"), READ);
    assert.deepEqual(
      got.messages.map((m) => m.body),
      Array.from({ length: 60 }, (_, i) => `n${i}`),
    );
  },
  "peek shows unread without consuming; tail marks read and unread": async ({ store, as }) => {
    await store.receive(as("b"), READ);
    await send(store, as("a"), "b", "one");
    await store.receive(as("b"), READ);
    await send(store, as("a"), "b", "two");
    assert.deepEqual(
      (await store.peek(as("b"))).messages.map((m) => m.body),
      ["two"],
    );
    assert.deepEqual(
      (await store.peek(as("b"))).messages.map((m) => m.body),
      ["two"],
    );
    const t = await store.tail(as("b"), 10);
    assert.deepEqual(
      t.messages.map((s) => [s.message.body, s.read]),
      [
        ["one", true],
        ["two", false],
      ],
    );
    assert.deepEqual(
      (await store.tail(as("b"), 1)).messages.map((s) => s.message.body),
      ["two"],
    );
  },
  "status says queued, then read with when and by whom": async ({ store, as, project }) => {
    await store.receive(as("b"), READ);
    const { message } = await send(store, as("a"), "b", "track me");
    const before = await store.status(project, message.id);
    assert.deepEqual(before.recipients, [{ role: "b", state: "queued" }]);
    assert.equal(before.from, "a");
    await store.receive(as("b"), { ...READ, by: "reader-7" });
    const after = await store.status(project, message.id);
    assert.equal(after.recipients[0]!.state, "read");
    assert.equal(after.recipients[0]!.by, "reader-7");
    assert.ok(after.recipients[0]!.at);
    await rejects(store.status(project, "mnotthere"), "E_NOT_FOUND");
    await rejects(store.status(project, "not an id"), "E_USAGE");
  },
  "an unknown role is refused unless queued for; then it is a role": async ({ store, as, project }) => {
    await store.receive(as("a"), READ);
    await rejects(send(store, as("a"), "later", "x"), "E_UNKNOWN_ROLE");
    await send(store, as("a"), "later", "waiting for you", true);
    assert.deepEqual(
      (await store.roles(project)).map((r) => [r.role, r.unread]),
      [
        ["a", 0],
        ["later", 1],
      ],
    );
    assert.deepEqual(
      (await store.receive(as("later"), READ)).messages.map((m) => m.body),
      ["waiting for you"],
    );
  },
  "a broadcast reaches every other role under one id; to nobody it is refused": async ({ store, as }) => {
    await rejects(send(store, as("a"), "*", "anyone?"), "E_NO_RECIPIENTS");
    await store.receive(as("b"), READ);
    await store.receive(as("c"), READ);
    const sent = await send(store, as("a"), "*", "all hands");
    assert.deepEqual(sent.deliveries.map((d) => d.role).sort(), ["b", "c"]);
    for (const role of ["b", "c"]) {
      const got = await store.receive(as(role), READ);
      assert.deepEqual(
        got.messages.map((m) => [m.id, m.to]),
        [[sent.message.id, "*"]],
      );
    }
    assert.equal((await store.receive(as("a"), READ)).messages.length, 0);
  },
  "sending to yourself, an empty body or one over the limit is refused": async ({ store, as }) => {
    await store.receive(as("b"), READ);
    await rejects(send(store, as("a"), "a", "me"), "E_SELF_SEND");
    await rejects(send(store, as("a"), "b", "  "), "E_BAD_BODY");
    await rejects(
      store.send({
        identity: as("a"),
        to: "b",
        body: "x".repeat(20),
        stamp: { chain: "c", hop: 0 },
        limits: { ...LIMITS, maxBodyBytes: 10 },
      }),
      "E_TOO_LARGE",
    );
    await rejects(send(store, as("a"), "b:c", "bad name"), "E_BAD_NAME");
    assert.equal((await store.peek(as("b"))).messages.length, 0);
  },
  "a role name differing only in case from one in use is refused (one name, one role)": async ({ store, as }) => {
    await store.receive(as("web"), READ);
    const err = await rejects(send(store, as("a"), "Web", "hello?", true), "E_BAD_NAME");
    assert.match(err.message, /"Web" differs only in case from the existing role "web"/);
    await rejects(store.receive(as("WEB"), READ), "E_BAD_NAME");
    assert.equal((await store.peek(as("web"))).messages.length, 0);
  },
  "accept stops a read: the rest stays unread, in order": async ({ store, as }) => {
    await store.receive(as("b"), READ);
    for (const body of ["1", "2", "3", "4"]) await send(store, as("a"), "b", body);
    const first = await store.receive(as("b"), { ...READ, accept: (_m, taken) => taken < 2 });
    assert.deepEqual(
      first.messages.map((m) => m.body),
      ["1", "2"],
    );
    assert.equal(first.remaining, 2);
    const none = await store.receive(as("b"), { ...READ, accept: () => false });
    assert.deepEqual(none.messages, []);
    const rest = await store.receive(as("b"), READ);
    assert.deepEqual(
      rest.messages.map((m) => m.body),
      ["3", "4"],
    );
    assert.deepEqual(rest.redelivered, []);
  },
  "deliver sees exactly what receive returns": async ({ store, as }) => {
    await store.receive(as("b"), READ);
    await send(store, as("a"), "b", "shown");
    const seen: string[] = [];
    const got = await store.receive(as("b"), READ, (batch) => {
      seen.push(...batch.messages.map((m) => m.body));
    });
    assert.deepEqual(seen, ["shown"]);
    assert.deepEqual(
      got.messages.map((m) => m.body),
      ["shown"],
    );
  },
  "concurrent readers on separate connections get each message exactly once": async ({ store, other, as }) => {
    await store.receive(as("b"), READ);
    const readers = [store, await other(), await other(), await other()];
    const taken: string[] = [];
    let sending = true;
    const loops = readers.map(async (r) => {
      while (sending || (await r.peek(as("b"))).messages.length > 0) {
        const got = await r.receive(as("b"), READ);
        taken.push(...got.messages.map((m) => m.body));
        await new Promise((res) => setTimeout(res, 1));
      }
    });
    const bodies = Array.from({ length: 200 }, (_, i) => `m${i}`);
    for (const body of bodies) await send(store, as("a"), "b", body);
    sending = false;
    await Promise.all(loops);
    assert.deepEqual([...taken].sort(), [...bodies].sort());
    assert.equal(new Set(taken).size, bodies.length);
    await Promise.all(readers.slice(1).map((r) => r.close()));
  },
  "sessions: a touched session is live and listed with its role": async ({ store, as, project }) => {
    await store.touchSession(as("b"), { pid: process.pid, cwd: "/tmp/x" }, 60_000);
    const sessions = await store.sessions(as("b"));
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0]!.live, true);
    assert.equal(sessions[0]!.cwd, "/tmp/x");
    const roles = await store.roles(project);
    assert.deepEqual(
      roles.map((r) => [r.role, r.live]),
      [["b", true]],
    );
    const sent = await send(store, as("a"), "b", "are you there");
    assert.equal(sent.deliveries[0]!.live.length, 1);
  },
  "follow prints the history with read marks, then each new message once, until stopped; nothing consumed": async ({ store, as }) => {
    await store.receive(as("b"), READ);
    await send(store, as("a"), "b", "h1");
    await store.receive(as("b"), READ);
    await send(store, as("a"), "b", "h2");
    const seen: [string, boolean | undefined][] = [];
    const stop = new AbortController();
    const following = store.follow(as("b"), 5, {
      message: (m, read) => seen.push([m.body, read]),
      skipped: (count) => assert.equal(count, 0),
      notice: (text) => assert.fail(`unexpected notice: ${text}`),
      signal: stop.signal,
    });
    await waitFor(
      "the history",
      () => seen.length >= 2 || undefined,
      10_000,
      () => JSON.stringify(seen),
    );
    await send(store, as("a"), "b", "live 1");
    await send(store, as("c"), "b", "live 2");
    await waitFor(
      "the live messages",
      () => seen.length >= 4 || undefined,
      10_000,
      () => JSON.stringify(seen),
    );
    stop.abort();
    await following;
    assert.deepEqual(seen, [
      ["h1", true],
      ["h2", false],
      ["live 1", undefined],
      ["live 2", undefined],
    ]);
    assert.equal((await store.peek(as("b"))).messages.length, 3);
  },
  "watch announces a new message to a role of the projects named": async ({ store, as, project }) => {
    await store.receive(as("b"), READ);
    let calls = 0;
    // A poll far away, so only the message can make the call.
    const watch = store.watch([project], () => calls++, 600_000);
    try {
      // Each role is announced once as it comes under watch: from then on nothing is missed.
      await waitFor(
        "the watch in place",
        () => calls >= 1 || undefined,
        10_000,
        () => `${calls} calls`,
      );
      await new Promise((r) => setTimeout(r, 200));
      const before = calls;
      await send(store, as("a"), "b", "ping");
      await waitFor(
        "a call after the send",
        () => calls > before || undefined,
        10_000,
        () => `${calls} calls`,
      );
    } finally {
      watch.close();
    }
  },
};

async function runCases(
  t: TestContext,
  open: (t: TestContext, project: string) => Promise<{ store: Store; other(): Promise<Store> }>,
): Promise<void> {
  let n = 0;
  for (const [name, fn] of Object.entries(CASES)) {
    await t.test(name, async (st) => {
      const project = `p${++n}`;
      const { store, other } = await open(st, project);
      const root = (store as { where: string }).where;
      try {
        await fn({ store, other, project, as: (role) => ({ root, project, role }) });
      } finally {
        await store.close();
      }
    });
  }
}

test("the file store", async (t) => {
  await runCases(t, async (st) => {
    const root = makeRoot(st);
    return { store: await openStore(root, {}), other: () => openStore(root, {}) };
  });
});

test("the Redis store", async (t) => {
  const redis = await startRedis(t);
  await runCases(t, async (st) => {
    const root = makeRoot(st);
    const env = { BRIDGE_URL: redis.url };
    return { store: await openStore(root, env), other: () => openStore(root, env) };
  });
});
