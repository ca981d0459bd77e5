// O_EXCL locks: held, waited on, and broken only when the holder is provably gone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { acquireLock, withLock } from "../../src/bus/lock.ts";
import { BridgeError } from "../../src/lib/errors.ts";
import { hasProcFs, processStartTime } from "../../src/lib/proc.ts";
import { REPO } from "../helpers/bin.ts";

const WORKER = join(REPO, "dist/test/fixtures/bus-worker.mjs");

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-lock-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// The same monotonic clock the lock measures its waits with (src/bus/lock.ts).
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

// Waits are asserted as ranges no noisy machine can break: a lower bound is exact (the lock counts
// from its own first look, which comes after ours), an upper bound is a contrasting setting
// several times larger, never a tight figure.
function timed<T>(fn: () => T): { value: T; ms: number } {
  const began = monotonicMs();
  const value = fn();
  return { value, ms: monotonicMs() - began };
}

const isLocked = (e: unknown): boolean => e instanceof BridgeError && e.code === "E_LOCKED";

function deadPid(): number {
  // A pid far above pid_max defaults is never alive.
  return 2 ** 22 + 12345;
}

async function holder(t: TestContext, lockPath: string) {
  const child = spawn(process.execPath, [WORKER, "hold", lockPath], { stdio: ["ignore", "pipe", "inherit"] });
  t.after(() => child.kill("SIGKILL"));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => d.toString().includes("locked") && resolve());
    child.on("exit", (code) => reject(new Error(`holder exited ${code}`)));
  });
  return child;
}

test("a lock is exclusive and released; release removes only our own lock", (t) => {
  const path = join(scratch(t), "lock");
  const lock = acquireLock(path);
  const holderInfo = JSON.parse(readFileSync(path, "utf8"));
  assert.equal(holderInfo.pid, process.pid);
  assert.equal(holderInfo.host, hostname());
  assert.match(holderInfo.machine, /^[0-9a-f]{16}$/, "the machine it was taken on (src/bus/machine.ts)");
  assert.throws(
    () => acquireLock(path, { timeoutMs: 50 }),
    (e: unknown) => e instanceof BridgeError && e.code === "E_LOCKED",
  );
  // Someone broke it (unlink) and re-took it (a new O_EXCL file): our release must not delete theirs.
  rmSync(path);
  writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), token: "theirs" }), { flag: "wx" });
  lock.release();
  assert.ok(existsSync(path));
  rmSync(path);
  assert.equal(
    withLock(path, () => 42),
    42,
  );
  assert.equal(existsSync(path), false);
});

test("a live holder makes waiters fail with E_LOCKED naming the lock file and the holder, after the timeout they set", async (t) => {
  const path = join(scratch(t), "lock");
  const child = await holder(t, path);
  let error: unknown;
  const { ms } = timed(() => {
    try {
      acquireLock(path, { timeoutMs: 300 });
    } catch (e) {
      error = e;
    }
  });
  assert.ok(isLocked(error), String(error));
  assert.ok((error as Error).message.includes(`lock "${path}" is held by pid ${child.pid}`), (error as Error).message);
  // Not before the 300 ms asked for, and far from a 3000 ms (or the default 10 s) bound.
  assert.ok(ms >= 300, `gave up after ${ms} ms, before timeoutMs 300`);
  assert.ok(ms < 3000, `gave up after ${ms} ms: not the timeoutMs 300 asked for`);
  assert.ok(existsSync(path), "a live holder's lock is never broken early");
});

test("a holder killed with SIGKILL leaves a lock that the next taker breaks at once", async (t) => {
  const path = join(scratch(t), "lock");
  const child = await holder(t, path);
  child.kill("SIGKILL");
  await new Promise((r) => child.on("exit", r));
  assert.ok(existsSync(path), "the dead holder's lock is still on disk");
  // timeoutMs 0: the lock checks its holder before its deadline, so only a break at the first look
  // succeeds; any wait at all would throw E_LOCKED.
  const lock = acquireLock(path, { timeoutMs: 0 });
  assert.equal(JSON.parse(readFileSync(path, "utf8")).pid, process.pid);
  lock.release();
});

test("an empty lock (holder killed between create and write) is broken after its 1 s bound, whatever staleMs says", (t) => {
  const path = join(scratch(t), "lock");
  writeFileSync(path, "");
  // Not at once: under the bound a waiter gives up, naming nobody.
  assert.throws(
    () => acquireLock(path, { timeoutMs: 300, staleMs: 60_000 }),
    (e: unknown) => isLocked(e) && (e as Error).message.includes("held by an unknown process"),
  );
  assert.ok(existsSync(path));
  // The README's bound is 1 s: never sooner, and well before a 3 s deadline that a bound of 3 s or
  // more, staleMs (60 s here) or the default staleMs (10 s) would all overrun.
  const { value: lock, ms } = timed(() => acquireLock(path, { timeoutMs: 3000, staleMs: 60_000 }));
  assert.ok(ms >= 1000, `broken after ${ms} ms, before the 1 s bound`);
  lock.release();
});

test("clock jumps do not wedge: a dead holder's lock from the far future or past is broken at once", (t) => {
  const dir = scratch(t);
  for (const ts of ["2999-01-01T00:00:00Z", "1970-01-01T00:00:00Z"]) {
    const path = join(dir, `lock-${ts.slice(0, 4)}`);
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), ts, token: "x" }));
    acquireLock(path, { timeoutMs: 0 }).release(); // 0: only a break at the first look succeeds
  }
});

test("a reused pid (alive, different start time) counts as a dead holder, whichever kind of start time this system gives", (t) => {
  const dir = scratch(t);
  const start = processStartTime(process.pid);
  assert.notEqual(start, undefined, "neither /proc nor ps gave this process's start time");
  // /proc gives clock ticks since boot (a number); without /proc, ps gives "lstart:<seconds>".
  assert.equal(typeof start, hasProcFs() ? "number" : "string");
  const earlier = typeof start === "number" ? start - 1 : `lstart:${Number(String(start).slice(7)) - 60}`;
  const own = JSON.parse(
    (() => {
      const lock = acquireLock(join(dir, "mine"));
      const text = readFileSync(join(dir, "mine"), "utf8");
      lock.release();
      return text;
    })(),
  );
  assert.equal(own.start, start, "a lock records its holder's start time");
  for (const [name, holder] of Object.entries({
    "this machine": { pid: process.pid, machine: own.machine, host: "renamed.example", start: earlier },
    "a record of 0.2.0 (host, no machine)": { pid: process.pid, host: hostname(), start: earlier },
  })) {
    const path = join(dir, `lock-${name.length}`);
    writeFileSync(path, JSON.stringify({ ...holder, token: "old" }));
    acquireLock(path, { timeoutMs: 0 }).release(); // 0: only a break at the first look succeeds
  }
  // The same pid with its own start time is a live holder: never broken.
  const live = join(dir, "live");
  writeFileSync(live, JSON.stringify({ pid: process.pid, machine: own.machine, host: "renamed.example", start, token: "alive" }));
  assert.throws(() => acquireLock(live, { timeoutMs: 100, staleMs: 60_000 }), isLocked);
});

test("a lock held from another machine is broken only after it sat unchanged for staleMs", (t) => {
  const dir = scratch(t);
  // Another machine: by its machine id, even under our own hostname (a shared root); by hostname in a 0.2.0 record.
  for (const where of [{ host: hostname(), machine: "0123456789abcdef" }, { host: "elsewhere.example" }]) {
    const path = join(dir, `lock-${where.host}`);
    writeFileSync(path, JSON.stringify({ pid: deadPid(), ...where, ts: new Date().toISOString(), token: "remote" }));
    assert.throws(
      () => acquireLock(path, { timeoutMs: 100, staleMs: 10_000 }),
      (e: unknown) => (e as BridgeError).code === "E_LOCKED",
    );
    const { value: lock, ms } = timed(() => acquireLock(path, { timeoutMs: 3000, staleMs: 200 }));
    assert.ok(ms >= 200, `broken after ${ms} ms, before staleMs 200`);
    lock.release();
  }
});

test("a breaker that died holding the .break guard does not block breaking forever", (t) => {
  const path = join(scratch(t), "lock");
  writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), token: "stale" }));
  writeFileSync(`${path}.break`, String(deadPid()));
  acquireLock(path, { timeoutMs: 2000 }).release();
  assert.equal(existsSync(`${path}.break`), false);
});

test("a symlink planted at the lock path is refused, never followed", (t) => {
  const dir = scratch(t);
  const target = join(dir, "target");
  writeFileSync(target, "precious");
  symlinkSync(target, join(dir, "lock"));
  assert.throws(
    () => acquireLock(join(dir, "lock"), { timeoutMs: 200 }),
    (e: unknown) => (e as BridgeError).code === "E_SYMLINK",
  );
  assert.equal(readFileSync(target, "utf8"), "precious");
});
