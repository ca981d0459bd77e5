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
import { processStartTime } from "../../src/lib/proc.ts";
import { REPO } from "../helpers/bin.ts";

const WORKER = join(REPO, "dist/test/fixtures/bus-worker.mjs");

function scratch(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-lock-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

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

test("a live holder makes waiters fail with E_LOCKED naming the lock file and the holder", async (t) => {
  const path = join(scratch(t), "lock");
  const child = await holder(t, path);
  assert.throws(
    () => acquireLock(path, { timeoutMs: 300 }),
    (e: unknown) => e instanceof BridgeError && e.code === "E_LOCKED" && e.message.includes(`lock "${path}" is held by pid ${child.pid}`),
  );
  assert.ok(existsSync(path), "a live holder's lock is never broken early");
});

test("a holder killed with SIGKILL leaves a lock that the next taker breaks at once", async (t) => {
  const path = join(scratch(t), "lock");
  const child = await holder(t, path);
  child.kill("SIGKILL");
  await new Promise((r) => child.on("exit", r));
  assert.ok(existsSync(path), "the dead holder's lock is still on disk");
  const lock = acquireLock(path, { timeoutMs: 2000 }); // the bound: well under the default 10 s
  assert.equal(JSON.parse(readFileSync(path, "utf8")).pid, process.pid);
  lock.release();
});

test("an empty lock (holder killed between create and write) is broken after a short bound", (t) => {
  const path = join(scratch(t), "lock");
  writeFileSync(path, "");
  const lock = acquireLock(path, { timeoutMs: 5000 });
  lock.release();
});

test("clock jumps do not wedge: a dead holder's lock from the far future or past is broken at once", (t) => {
  const dir = scratch(t);
  for (const ts of ["2999-01-01T00:00:00Z", "1970-01-01T00:00:00Z"]) {
    const path = join(dir, `lock-${ts.slice(0, 4)}`);
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), ts, token: "x" }));
    acquireLock(path, { timeoutMs: 500 }).release();
  }
});

test("a reused pid (alive, different start time) counts as a dead holder", (t) => {
  const path = join(scratch(t), "lock");
  const start = processStartTime(process.pid);
  if (start === undefined) return t.skip("no /proc start times on this system");
  writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), start: start + 1, token: "old" }));
  acquireLock(path, { timeoutMs: 500 }).release();
});

test("a lock held from another host is broken only after it sat unchanged for staleMs", (t) => {
  const path = join(scratch(t), "lock");
  writeFileSync(path, JSON.stringify({ pid: 1, host: "elsewhere.example", ts: new Date().toISOString(), token: "remote" }));
  assert.throws(
    () => acquireLock(path, { timeoutMs: 100, staleMs: 10_000 }),
    (e: unknown) => (e as BridgeError).code === "E_LOCKED",
  );
  acquireLock(path, { timeoutMs: 3000, staleMs: 200 }).release();
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
