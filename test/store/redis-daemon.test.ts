// The wake daemon on Redis, through the built binary: two "machines" (two bridge roots with their
// own BRIDGE_MACHINE_ID) share one redis-server, each runs `spawner run`, and each wakes only its
// own machine's roles; the rails' bookkeeping lives in Redis, so cooldown and single wakes hold
// across the two daemons; a redis-server killed and restarted under a running daemon loses nothing.
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { startRedis } from "../helpers/redis.ts";
import type { RedisServer } from "../helpers/redis.ts";
import {
  cli,
  installFixture,
  ok,
  readJsonLines,
  readLog,
  runDaemon,
  sandbox,
  send,
  waitFor,
  waitForLog,
  wakes,
} from "../helpers/spawner.ts";
import type { DaemonProc, Sandbox } from "../helpers/spawner.ts";

const MACHINE_A = "aaaaaaaaaaaaaaaa";
const MACHINE_B = "bbbbbbbbbbbbbbbb";

interface Machine {
  box: Sandbox;
  env: Record<string, string>;
  /** Where the stand-in claude records its runs. */
  runs: string;
  cwd: string;
  daemons: DaemonProc[];
}

/** A bridge root of its own, on the shared Redis, as machine `id`; automation on with the spawn driver. */
function machine(t: TestContext, redis: RedisServer, id: string, extra: Record<string, string> = {}): Machine {
  const box = sandbox();
  const daemons: DaemonProc[] = [];
  // The daemons stop before the folder goes: one still running writes into it (ENOTEMPTY), and
  // a failed after-hook would leave it running, holding the test file open.
  t.after(async () => {
    for (const d of daemons) await d.stop();
    box.cleanup();
  });
  installFixture(box, "fake-claude-p.mjs");
  const cwd = join(box.dir, "work");
  mkdirSync(cwd);
  const runs = join(box.dir, "claude.jsonl");
  const env = { BRIDGE_URL: redis.url, BRIDGE_MACHINE_ID: id, FIXTURE_LOG: runs, BRIDGE_SPAWNER_RESCAN_MS: "300", ...extra };
  ok(box, ["spawner", "on"], env);
  ok(box, ["spawner", "config", "driver=spawn", "cooldownSeconds=0"], env);
  return { box, env, runs, cwd, daemons };
}

async function daemon(t: TestContext, m: Machine, args: string[] = ["--project", "shop"]): Promise<DaemonProc> {
  const d = await runDaemon(m.box, m.env, args);
  m.daemons.push(d);
  t.after(() => d.stop());
  return d;
}

/** The role's wake state as the daemons recorded it in Redis. */
async function wakeState(redis: RedisServer, role: string): Promise<Record<string, unknown>> {
  const reply = await redis.command("HGET", `sb:{shop}:wake:${role}`, "state");
  const json = reply.split("\r\n")[1];
  return json ? (JSON.parse(json) as Record<string, unknown>) : {};
}

const starts = (m: Machine): unknown[] => readJsonLines(m.runs).filter((e) => e.event === "start");

test("two machines on one Redis: the role's own machine wakes it, the other leaves it alone and records nothing", async (t) => {
  const redis = await startRedis(t);
  const a = machine(t, redis, MACHINE_A);
  const b = machine(t, redis, MACHINE_B);
  // Only B's settings give api a folder: B's daemon spawns it; A's has no cwd for it here.
  ok(b.box, ["spawner", "set", "--force", "shop", "api", `cwd=${b.cwd}`], b.env);
  await daemon(t, a);
  await daemon(t, b);
  const sent = send(a.box, "shop", "web", "api", "build it", a.env);
  const woke = await waitForLog(b.box, "B's wake of api", (e) => e.event === "wake" && e.role === "api");
  assert.deepEqual(woke.ids, [sent.id]);
  await waitForLog(b.box, "B's run of api", (e) => e.event === "run-end" && e.role === "api");
  assert.equal(starts(b).length, 1);
  await waitForLog(a.box, "A leaving api to its machine", (e) => e.event === "elsewhere" && e.role === "api");
  assert.deepEqual(
    readLog(a.box).filter((e) => ["wake", "refused", "deferred"].includes(e.event)),
    [],
  );
  assert.equal(starts(a).length, 0);
  const state = await wakeState(redis, "api");
  assert.equal((state.lastWake as { driver: string; ids: string[] }).driver, "spawn");
  assert.deepEqual((state.lastWake as { ids: string[] }).ids, [sent.id]);
  assert.equal(state.lastRefusal, undefined);
  assert.equal(state.inFlightSince, undefined);
});

test("the socket driver on Redis: each daemon reads the role's sessions from the store and nudges only its own machine's", async (t) => {
  const redis = await startRedis(t);
  const a = machine(t, redis, MACHINE_A);
  const b = machine(t, redis, MACHINE_B);
  for (const m of [a, b]) ok(m.box, ["spawner", "config", "driver=socket"], m.env);
  // A live session of api on machine B (this test process stands in for its claude), with a
  // messaging socket: written as the store's TOUCH writes it, its deadline a minute ahead.
  const socket = join(b.box.dir, "claude.sock");
  const lines: string[] = [];
  const server = createServer((c) => c.on("data", (d) => lines.push(d.toString())));
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.after(() => {
    server.close();
    rmSync(socket, { force: true });
  });
  const now = new Date().toISOString();
  const record = { pid: process.pid, messagingSocket: socket, host: "devbox", machine: MACHINE_B, startedAt: now, lastSeen: now };
  const member = `api\t${MACHINE_B}:${process.pid}`;
  await redis.command("SADD", "sb:{shop}:roles", "api");
  await redis.command("HSET", "sb:{shop}:names", "api", "api");
  await redis.command("HSET", "sb:{shop}:ses", member, JSON.stringify(record));
  await redis.command("ZADD", "sb:{shop}:live", String(Date.now() + 60_000), member);
  await daemon(t, a);
  await daemon(t, b);
  send(a.box, "shop", "web", "api", "look", a.env);
  await waitFor("the nudge on api's messaging socket", () => lines.join("").includes("session-bridge"), 20_000);
  await waitForLog(b.box, "B's socket wake", (e) => e.event === "wake" && e.role === "api" && e.driver === "socket");
  await waitForLog(a.box, "A leaving api alone", (e) => e.event === "elsewhere" && e.role === "api");
  assert.equal(wakes(a.box).length, 0);
  assert.equal(lines.join("").split("\n").filter(Boolean).length, 1);
});

test("the rails hold across two daemons: one wake for mail both could wake, the next batch deferred by the cooldown, recorded in Redis", async (t) => {
  const redis = await startRedis(t);
  const a = machine(t, redis, MACHINE_A);
  const b = machine(t, redis, MACHINE_B);
  for (const m of [a, b]) {
    ok(m.box, ["spawner", "config", "cooldownSeconds=600"], m.env);
    ok(m.box, ["spawner", "set", "--force", "shop", "api", `cwd=${m.cwd}`], m.env);
  }
  await daemon(t, a);
  await daemon(t, b);
  send(a.box, "shop", "web", "api", "first", a.env);
  const woke = await waitFor("one daemon's wake", () => [...wakes(a.box), ...wakes(b.box)][0], 20_000);
  const waker = wakes(a.box).length > 0 ? a : b;
  await waitForLog(waker.box, "the run's end", (e) => e.event === "run-end");
  send(b.box, "shop", "web", "api", "second", b.env);
  for (const m of [a, b])
    await waitForLog(m.box, "the cooldown deferral", (e) => e.event === "deferred" && e.role === "api" && e.code === "cooldown");
  assert.equal(wakes(a.box).length + wakes(b.box).length, 1, `one wake in all (${woke.msg})`);
  assert.equal(starts(a).length + starts(b).length, 1);
  const state = await wakeState(redis, "api");
  assert.equal((state.lastRefusal as { code: string }).code, "cooldown");
  assert.match((state.lastRefusal as { reason: string }).reason, /cooldownSeconds 600/);
  // spawner status on either machine shows what Redis holds: the wake, then the deferral.
  for (const m of [a, b]) {
    const status = JSON.parse(ok(m.box, ["spawner", "status", "--json"], m.env));
    assert.equal(status.store, redis.url);
    const api = status.roles.find((r: { role: string }) => r.role === "api");
    assert.equal(api.lastWake.driver, "spawn");
    assert.equal(api.lastRefusal.code, "cooldown");
    assert.match(api.notWoken, /^cooldown at .*cooldownSeconds 600/);
    assert.equal(api.unread, 2);
  }
  assert.match(
    ok(a.box, ["spawner", "status"], a.env),
    /^store: redis:\/\/127\.0\.0\.1:\d+ \(roles, unread mail and wake records read from it\)$/m,
  );
});

test("redis-server killed and restarted under a running daemon: it reconnects, looks again and wakes; mail sent while no daemon ran follows --replay", async (t) => {
  const redis = await startRedis(t);
  // No periodic rescan within the test: what pub/sub dropped is found by the rescan on reconnect.
  const b = machine(t, redis, MACHINE_B, { BRIDGE_SPAWNER_RESCAN_MS: "600000" });
  ok(b.box, ["spawner", "set", "--force", "shop", "api", `cwd=${b.cwd}`], b.env);
  const d = await daemon(t, b);
  // The daemon is paused across the crash and the send, so the message is published while it is
  // not subscribed: only its rescan on reconnect can find it.
  d.child.kill("SIGSTOP");
  t.after(() => d.child.kill("SIGCONT"));
  await redis.kill9();
  await redis.restart();
  const first = send(b.box, "shop", "web", "api", "after the restart", b.env);
  d.child.kill("SIGCONT");
  await waitForLog(b.box, "the lost connection", (e) => e.event === "store-lost");
  await waitForLog(b.box, "the reconnect", (e) => e.event === "store-back");
  await waitForLog(b.box, "the wake after the restart", (e) => e.event === "wake" && (e.ids as string[]).includes(first.id));
  await waitForLog(b.box, "its run's end", (e) => e.event === "run-end");
  await d.stop();

  // Sent while no daemon runs: not woken for without --replay (said at start), woken for with it.
  const missed = send(b.box, "shop", "web", "api", "while down", b.env);
  const plain = await runDaemon(b.box, b.env, ["--project", "shop"]);
  const started = readLog(b.box)
    .filter((e) => e.event === "start")
    .at(-1);
  assert.match(String(started?.msg), /1 message\(s\) that arrived while it was down are not woken for \(start with --replay/);
  await plain.stop();
  assert.equal(wakes(b.box).length, 1);
  const replaying = await daemon(t, b, ["--project", "shop", "--replay"]);
  await waitForLog(b.box, "the replayed wake", (e) => e.event === "wake" && (e.ids as string[]).includes(missed.id));
  await replaying.stop();
  assert.equal(wakes(b.box).length, 2);
});

test("spawner run on Redis: a bad URL, an unreachable server and no project are clear errors, the password never shown", async (t) => {
  const box = sandbox();
  t.after(() => box.cleanup());
  const bad = cli(box, ["spawner", "run", "--project", "shop"], { BRIDGE_URL: "http://bus:s3cret@127.0.0.1:1" });
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /E_CONFIG: BRIDGE_URL http:\/\/bus:\*\*\*@127\.0\.0\.1:1 uses http:\/\/, which is not a store/);
  const began = Date.now();
  const away = cli(box, ["spawner", "run", "--project", "shop"], { BRIDGE_URL: "redis://bus:s3cret@127.0.0.1:1/0" });
  assert.notEqual(away.status, 0);
  assert.match(away.stderr, /E_STORE: the store at redis:\/\/bus:\*\*\*@127\.0\.0\.1:1\/0 failed: .*ECONNREFUSED.*; nothing was woken/);
  // Generous: the budget is ~2 s, a loaded machine adds the start of node.
  assert.ok(Date.now() - began < 15_000, `gave up after ${Date.now() - began} ms`);
  for (const r of [bad, away]) assert.doesNotMatch(r.stderr, /s3cret/);
  const none = cli(box, ["spawner", "run"], { BRIDGE_URL: "redis://127.0.0.1:1" });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /E_USAGE: no project to serve on redis:\/\/127\.0\.0\.1:1: name them with --project/);
  const onFiles = cli(box, ["spawner", "run", "--project", "shop"]);
  assert.equal(onFiles.status, 2);
  assert.match(onFiles.stderr, /E_USAGE: --project is for the Redis store/);
});

test("maxHops across machines: runs on two machines answering each other stop at the loop guard, the hop carried by each message", async (t) => {
  const redis = await startRedis(t);
  const a = machine(t, redis, MACHINE_A, { FIXTURE_MODE: "reply" });
  const b = machine(t, redis, MACHINE_B, { FIXTURE_MODE: "reply" });
  ok(a.box, ["spawner", "config", "maxHops=2"], a.env);
  ok(b.box, ["spawner", "config", "maxHops=2"], b.env);
  ok(a.box, ["spawner", "set", "--force", "shop", "web", `cwd=${a.cwd}`], a.env);
  ok(b.box, ["spawner", "set", "--force", "shop", "api", `cwd=${b.cwd}`], b.env);
  await daemon(t, a);
  await daemon(t, b);
  send(a.box, "shop", "web", "api", "ping", a.env);
  const refusal = await waitForLog(b.box, "the loop guard on B", (e) => e.event === "refused" && e.code === "hops", 60_000);
  assert.match(refusal.msg, /maxHops 2/);
  assert.deepEqual(
    wakes(b.box).map((e) => e.hop),
    [0],
  );
  assert.deepEqual(
    wakes(a.box).map((e) => e.hop),
    [1],
  );
  assert.equal(((await wakeState(redis, "api")).lastRefusal as { code: string }).code, "hops");
});

test("a daemon as the README's ACL user confined to its project (keys ~sb:{shop}:*, channel &sb:{shop}:*) wakes its roles", async (t) => {
  const bus = `--user sb-shop on >shop-pw resetkeys ~sb:{shop}:* resetchannels &sb:{shop}:* -@all +@read +@write +@stream +eval +evalsha +time +info +ping +publish +subscribe`;
  const redis = await startRedis(t, ["--requirepass", "admin-only-secret", ...bus.split(" ")], "admin-only-secret");
  const b = machine(t, redis, MACHINE_B, { BRIDGE_URL: `redis://sb-shop:shop-pw@127.0.0.1:${redis.port}` });
  ok(b.box, ["spawner", "set", "--force", "shop", "api", `cwd=${b.cwd}`], b.env);
  await daemon(t, b);
  const sent = send(b.box, "shop", "web", "api", "inside", b.env);
  const woke = await waitForLog(b.box, "the wake as the confined user", (e) => e.event === "wake" && e.role === "api");
  assert.deepEqual(woke.ids, [sent.id]);
  await waitForLog(b.box, "its run's end", (e) => e.event === "run-end");
  assert.equal(((await wakeState(redis, "api")).lastWake as { driver: string }).driver, "spawn");
});
