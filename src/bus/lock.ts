// O_EXCL lock files. The holder writes {pid, host, machine, start, token, ts} right after creating
// the file. A waiter breaks a lock when its holder is provably gone (made on this machine, pid dead
// or reused: bus/machine.ts, lib/proc.ts),
// or when the very same lock has sat unchanged for `staleMs` of the waiter's own monotonic
// clock — never by comparing wall-clock stamps, so a clock jump cannot wedge or break anything.
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { BridgeError, isErrno } from "../lib/errors.ts";
import { FILE_MODE, isRecord, parseJson, randomHex, readFileIfExists, removeQuietly, sleepSync, writeAll } from "../lib/fs.ts";
import { isProcessAlive, isSameProcessAlive, processStartTime } from "../lib/proc.ts";
import { madeHere, machineStamp } from "./machine.ts";
import { isoTime } from "../lib/time.ts";

export interface LockOptions {
  /** Give up with E_LOCKED after this long (default 10 s). */
  timeoutMs?: number;
  /** Break a lock whose holder may still be alive after it sat unchanged this long (default 10 s). */
  staleMs?: number;
}

export interface LockHandle {
  readonly path: string;
  release(): void;
}

interface Holder {
  pid?: number;
  host?: string;
  machine?: string;
  /** Ticks since boot (a number) or "lstart:<secs>": see lib/proc.ts. */
  start?: unknown;
  token?: string;
}

// The monotonic clock in ms. Not performance.now(): the first touch of the `performance` global
// loads Node's perf_hooks internals, ~0.6 ms of every hook that takes a lock.
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
// Without a pid (a holder killed between create and write) there is nobody to wait for.
const EMPTY_LOCK_STALE_MS = 1000;

export function acquireLock(path: string, options: LockOptions = {}): LockHandle {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 10_000;
  // Who we are is worked out before the file exists (the first time it may run ps, or hash the
  // machine id): a lock that is still empty may be one its holder died in, broken after 1 s.
  const signed = { pid: process.pid, ...machineStamp(), start: processStartTime(process.pid), token: randomHex(8) };
  const began = monotonicMs();
  let seen: { content: string; since: number } | undefined;
  let delay = 1;
  for (;;) {
    const fd = tryCreate(path, signed);
    if (fd !== undefined) return handle(path, fd);
    const content = readFileIfExists(path);
    if (content === undefined) continue; // released between our create and read: retry at once
    const now = monotonicMs();
    if (seen?.content !== content) seen = { content, since: now };
    const parsed = parseJson(content);
    const holder: Holder = isRecord(parsed) ? parsed : {};
    const observed = now - seen.since;
    if (isStale(holder, observed, staleMs)) {
      breakLock(path, content);
      continue;
    }
    if (now - began >= timeoutMs) {
      const who = holder.pid ? `pid ${holder.pid} on ${holder.host ?? "?"}` : "an unknown process";
      throw new BridgeError(
        "E_LOCKED",
        `lock "${path}" is held by ${who} (waited ${Math.round(now - began)} ms); if that process is stuck, stop it, or remove the lock file`,
      );
    }
    sleepSync(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 25);
  }
}

export function withLock<T>(path: string, fn: () => T, options?: LockOptions): T {
  const lock = acquireLock(path, options);
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/** The open lock file when we created it (kept open until release), else undefined. */
function tryCreate(path: string, signed: object): number | undefined {
  let fd: number;
  try {
    // O_EXCL with O_CREAT never follows a symlink: a planted link makes this fail with EEXIST.
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE);
  } catch (err) {
    if (isErrno(err, "EEXIST")) return undefined;
    throw err;
  }
  try {
    writeAll(fd, JSON.stringify({ ...signed, ts: isoTime() }));
  } catch (err) {
    // A lock we could not sign (ENOSPC, EIO) would hold every other taker up until it looks
    // abandoned: it is ours (O_EXCL), so take it back before reporting the failure.
    closeSync(fd);
    removeQuietly(path);
    throw err;
  }
  return fd;
}

function isStale(holder: Holder, observedMs: number, staleMs: number): boolean {
  if (typeof holder.pid !== "number") return observedMs >= EMPTY_LOCK_STALE_MS;
  // Made on this machine: a dead pid, or a live pid with another start time (reused), means the holder is gone.
  if (madeHere(holder) && !isSameProcessAlive(holder.pid, holder.start)) return true;
  return observedMs >= staleMs;
}

/**
 * Removes a stale lock without racing other breakers: only one process may hold `<lock>.break`,
 * and it unlinks the lock only if it still has the exact content judged stale (so a fresh lock
 * taken by someone else in the meantime survives).
 */
function breakLock(path: string, staleContent: string): void {
  const guard = `${path}.break`;
  let fd: number;
  try {
    fd = openSync(guard, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE);
  } catch (err) {
    if (!isErrno(err, "EEXIST")) throw err;
    clearAbandonedGuard(guard);
    return;
  }
  try {
    writeAll(fd, String(process.pid));
    closeSync(fd);
    if (readFileIfExists(path) === staleContent) removeQuietly(path);
  } finally {
    removeQuietly(guard);
  }
}

// A breaker killed while holding the guard leaves it behind; the guard is held for microseconds,
// so one older than a second belongs to a dead breaker.
function clearAbandonedGuard(guard: string): void {
  try {
    const pid = Number(readFileSync(guard, "utf8"));
    const age = Date.now() - statSync(guard).mtimeMs;
    if ((pid > 0 && !isProcessAlive(pid)) || Math.abs(age) > 1000) unlinkSync(guard);
  } catch {
    // The guard vanished (its breaker finished) or is unreadable mid-write: try again next round.
  }
}

function handle(path: string, fd: number): LockHandle {
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      try {
        // Only remove our own lock: if it was broken and re-taken, the file is someone else's now.
        // Ours is the inode we hold open, and an inode in use is never given to another file, so
        // comparing it is exact (and one lstat is cheaper than opening and reading the lock back).
        const ours = fstatSync(fd);
        let now;
        try {
          now = lstatSync(path);
        } catch (err) {
          if (!isErrno(err, "ENOENT")) throw err;
        }
        if (now && now.ino === ours.ino && now.dev === ours.dev) removeQuietly(path);
      } finally {
        closeSync(fd);
      }
    },
  };
}
