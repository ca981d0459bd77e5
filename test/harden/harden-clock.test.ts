// Clock jumps: records stamped by a clock that has since gone back (from the future) or forward
// (from the far past) never wedge anything. Liveness is judged by pid, staleness by the waiter's own
// monotonic clock or by |age|, so a stamp years off either way is harmless. (Locks from the future
// or past: test/bus/lock.test.ts; the rails' stamps: test/wake/rails.test.ts; a daemon facing wake stamps
// from the future: test/harden/harden-daemon.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { receive } from "../../src/bus.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { acquireLock } from "../../src/bus/lock.ts";
import { decideWake } from "../../src/wake/rails.ts";
import { listSessions, registerSession, touchSession } from "../../src/bus/sessions.ts";
import { mergeSettings } from "../../src/settings/schema.ts";
import { acquireDaemonLock, spawnerPaths } from "../../src/spawner/state.ts";
import { recordWakeDecision, readWakeState } from "../../src/wake/state.ts";
import { makeRoot } from "../helpers/cli.ts";

const FUTURE = "2999-01-01T00:00:00.000Z";
const PAST = "1970-01-02T00:00:00.000Z";
const DEAD = 2 ** 22 + 4321;

function role(t: Parameters<typeof makeRoot>[0], name = "web") {
  const root = makeRoot(t);
  receive({ root, project: "shop", role: name }, { by: "setup" });
  const paths = rolePaths(root, "shop", name);
  mkdirSync(paths.sessions, { recursive: true });
  return { root, paths };
}

const record = (pid: number, lastSeen: string) => JSON.stringify({ pid, host: hostname(), startedAt: lastSeen, lastSeen });

test("session records from the future or the far past: live ones stay live and are refreshed, dead ones are forgotten", (t) => {
  const { paths } = role(t);
  const file = (pid: number): string => join(paths.sessions, `${pid}.json`);
  writeFileSync(file(process.pid), record(process.pid, FUTURE));
  writeFileSync(file(process.ppid), record(process.ppid, PAST));
  writeFileSync(file(DEAD), record(DEAD, FUTURE));
  writeFileSync(file(DEAD + 1), record(DEAD + 1, PAST));
  writeFileSync(file(DEAD + 2), record(DEAD + 2, "not a time"));
  assert.deepEqual(
    listSessions(paths)
      .filter((s) => s.live)
      .map((s) => s.pid)
      .sort(),
    [process.pid, process.ppid].sort(),
    "liveness is the pid's, whatever the stamp says",
  );
  // A prompt refreshes a record stamped in the future at once (it is not "seen less than a minute ago").
  assert.equal(touchSession(paths, process.pid, 60_000), true);
  const touched = JSON.parse(readFileSync(file(process.pid), "utf8")) as { lastSeen: string };
  assert.ok(Math.abs(Date.parse(touched.lastSeen) - Date.now()) < 60_000, touched.lastSeen);
  // Registering any session sweeps the dead records, wherever their stamps lie.
  registerSession(paths, { pid: process.pid });
  assert.deepEqual(
    [DEAD, DEAD + 1, DEAD + 2].map((pid) => existsSync(file(pid))),
    [false, false, false],
  );
  assert.equal(existsSync(file(process.ppid)), true, "a live session from the far past is kept");
});

test("wake bookkeeping from the future or the far past: the next wake is decided as if it were not there", (t) => {
  const { paths } = role(t);
  const settings = mergeSettings({ enabled: true, defaultMode: "auto", cooldownSeconds: 10 });
  const batch = [{ id: "m1", ts: FUTURE, project: "shop", from: "api", to: "web", body: "x", chain: "c1", hop: 0 }];
  const now = Date.now();
  for (const stamps of [
    { inFlightSince: Date.parse(FUTURE), lastWakeAt: Date.parse(FUTURE), recent: Array(50).fill(Date.parse(FUTURE)) },
    { inFlightSince: 0, lastWakeAt: 0, recent: Array(50).fill(86_400_000) },
  ]) {
    writeFileSync(paths.wake, JSON.stringify(stamps));
    const decision = recordWakeDecision(
      paths,
      (h) => decideWake({ settings, project: "shop", role: "web", batch, history: h, now, target: { ok: true } }),
      { driver: "spawn", inFlight: true, now },
    );
    assert.equal(decision.wake, true, JSON.stringify(decision));
    const state = readWakeState(paths);
    assert.equal(state.inFlightSince, now);
    assert.deepEqual(state.recent, [now], "stamps outside the minute, either way, are dropped");
  }
});

test("a lock's .break guard left with a time from the future does not block breaking a dead holder's lock", (t) => {
  const { paths } = role(t);
  writeFileSync(paths.lock, JSON.stringify({ pid: DEAD, host: hostname(), token: "old", ts: FUTURE }));
  // Its writer is alive (our own pid), but its time is years ahead: it cannot be a breaker at work.
  writeFileSync(`${paths.lock}.break`, String(process.pid));
  const future = new Date(FUTURE);
  utimesSync(`${paths.lock}.break`, future, future);
  acquireLock(paths.lock, { timeoutMs: 5000 }).release();
  assert.equal(existsSync(`${paths.lock}.break`), false);
});

test("an unwritten daemon lock with a time from the future is not mistaken for a daemon starting now", (t) => {
  const root = makeRoot(t);
  mkdirSync(join(root, "spawner"), { recursive: true });
  const path = spawnerPaths(root).pid;
  writeFileSync(path, "");
  const future = new Date(FUTURE);
  utimesSync(path, future, future);
  const lock = acquireDaemonLock(root);
  assert.equal(lock.tookOver, "unreadable");
  lock.release();
});
