// Process liveness, including pid reuse: Linux exposes each process's start time (in clock
// ticks since boot) as field 22 of /proc/<pid>/stat; a live pid with another start time is
// a different process.
import { accessSync, constants, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { hostname } from "node:os";

/**
 * This machine, as recorded in locks, session records and the daemon's lock: a holder on another
 * machine cannot be checked from here, so records say where they were made.
 */
export const THIS_HOST = hostname();

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else — alive all the same.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

let ownStart: number | undefined | null = null;

export function processStartTime(pid: number): number | undefined {
  if (pid === process.pid && ownStart !== null) return ownStart;
  let start: number | undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const value = Number(fields[19]);
    start = Number.isFinite(value) ? value : undefined;
  } catch {
    // No /proc (not Linux) or the process is gone: start time unknown, liveness falls back to kill(0).
    start = undefined;
  }
  if (pid === process.pid) ownStart = start;
  return start;
}

/** True when /proc says `pid` has exited and only waits to be reaped (kill(pid, 0) still succeeds on it). */
export function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat[stat.lastIndexOf(")") + 2] === "Z";
  } catch {
    // No /proc, or already reaped: kill(0) alone decides.
    return false;
  }
}

/** Alive (not a zombie) and, when a start time was recorded, still the same process. */
export function isSameProcessAlive(pid: number, start: number | undefined): boolean {
  if (!isProcessAlive(pid) || isZombie(pid)) return false;
  if (start === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === start;
}

/** The parent pid from /proc (undefined when unknown: not Linux, or the process is gone). */
export function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const value = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return Number.isInteger(value) && value >= 0 ? value : undefined;
  } catch {
    // Gone, or no /proc: the caller treats "unknown" as "not related".
    return undefined;
  }
}

/** True when `pid` is `ancestor` or one of its descendants (walking up at most `depth` parents). */
export function descendsFrom(pid: number, ancestor: number, depth = 16): boolean {
  let current: number | undefined = pid;
  for (let i = 0; i <= depth && current !== undefined && current > 1; i++) {
    if (current === ancestor) return true;
    current = parentPid(current);
  }
  return false;
}

/** The first executable `name` in the PATH of `env`, as a path; undefined when there is none. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry: keep looking.
    }
  }
  return undefined;
}
