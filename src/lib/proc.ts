// Process facts: liveness with pid reuse, parent, process group and terminal, command name.
// Linux answers from /proc (a file read, the fast path hooks rely on); where there is no /proc
// (macOS, BSD, a Linux with /proc hidden) the same facts come from `ps` (lib/ps.ts), one call
// per question. A process's start time is what tells a live pid from a reused one, and the two
// sources give different kinds of start time that must never be compared with each other:
//   a number          clock ticks since boot, field 22 of /proc/<pid>/stat (what 0.2.0 recorded)
//   "lstart:<secs>"   the second it started (UTC epoch), from `ps -o lstart=` where /proc is missing
// A record is checked with the kind it holds; a kind this machine cannot read counts as unknown.
import { accessSync, constants, lstatSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { psFacts, psParents, psText } from "./ps.ts";
import { readHead } from "./fs.ts";

export type StartTime = number | `lstart:${number}`;

let procfs: boolean | undefined;

/** Whether /proc answers (checked once per process). */
export function hasProcFs(): boolean {
  // lstat, not existsSync: the hooks have already compiled it (each fs function is compiled on first use).
  procfs ??= lstatSync("/proc/self/stat", { throwIfNoEntry: false }) !== undefined;
  return procfs;
}

interface Stat {
  state: string;
  ppid: number;
  pgrp: number;
  tpgid: number;
  start: number | undefined;
}

function procStat(pid: number): Stat | undefined {
  // One line of 52 fields, those read here well within its first 1 KiB. Not readFileSync: for a
  // /proc file (its size reads as 0) it allocates 64 KiB chunks, and its first call cost a hook ~0.5 ms.
  const stat = readHead(`/proc/${pid}/stat`, 1024)?.toString("latin1");
  // The process is gone (or was never there).
  if (stat === undefined) return undefined;
  // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const start = Number(f[19]);
  return {
    state: f[0] ?? "",
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    tpgid: Number(f[5]),
    start: Number.isFinite(start) ? start : undefined,
  };
}

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

const lstartOf = (secs: number | undefined): StartTime | undefined => (secs === undefined ? undefined : `lstart:${secs}`);

let ownStart: StartTime | undefined | null = null;

/** The start time of `pid` in the kind this machine gives (see the file comment); undefined when unknown. */
export function processStartTime(pid: number): StartTime | undefined {
  if (pid === process.pid && ownStart !== null) return ownStart;
  const start = hasProcFs() ? procStat(pid)?.start : lstartOf(psFacts(pid)?.start);
  if (pid === process.pid) ownStart = start;
  return start;
}

/** "ticks", "lstart", or undefined for a value that is neither (absent, or written by something else). */
function startKind(start: unknown): "ticks" | "lstart" | undefined {
  if (typeof start === "number" && Number.isFinite(start)) return "ticks";
  if (typeof start === "string" && /^lstart:\d+$/.test(start)) return "lstart";
  return undefined;
}

/** True when `pid` has exited and only waits to be reaped (kill(pid, 0) still succeeds on it). */
export function isZombie(pid: number): boolean {
  const state = hasProcFs() ? procStat(pid)?.state : psFacts(pid)?.stat;
  return state?.startsWith("Z") === true;
}

/**
 * Alive (not a zombie) and, when a start time was recorded, still the same process. A start of a
 * kind this machine cannot read (ticks without /proc) leaves the decision to kill(0).
 */
export function isSameProcessAlive(pid: number, start: unknown): boolean {
  if (!isProcessAlive(pid)) return false;
  const kind = startKind(start);
  if (hasProcFs()) {
    const stat = procStat(pid);
    // Vanished between kill(0) and the read: the next look says so; until then, not judged dead.
    if (!stat) return true;
    if (stat.state === "Z") return false;
    if (kind === "ticks") return stat.start === undefined || stat.start === start;
    // A record written where /proc was hidden: read the same kind back with ps.
    if (kind === "lstart") return sameLstart(pid, start as string);
    return true;
  }
  const facts = psFacts(pid);
  // No answer from ps (it just exited, or no ps): kill(0) said alive.
  if (!facts) return true;
  if (facts.stat.startsWith("Z")) return false;
  if (kind === "lstart" && facts.start !== undefined) return lstartOf(facts.start) === start;
  return true;
}

function sameLstart(pid: number, start: string): boolean {
  const facts = psFacts(pid);
  return facts?.start === undefined || lstartOf(facts.start) === start;
}

/** The parent pid (undefined when unknown: the process is gone, or neither /proc nor ps answers). */
export function parentPid(pid: number): number | undefined {
  const ppid = hasProcFs() ? procStat(pid)?.ppid : psFacts(pid)?.ppid;
  return ppid !== undefined && Number.isInteger(ppid) && ppid >= 0 ? ppid : undefined;
}

/** True when `pid` is `ancestor` or one of its descendants (walking up at most `depth` parents). */
export function descendsFrom(pid: number, ancestor: number, depth = 16): boolean {
  // Without /proc, one `ps -A` answers every step of the walk.
  const parents = hasProcFs() ? undefined : psParents();
  const parentOf = (p: number): number | undefined => (parents ? parents.get(p) : parentPid(p));
  let current: number | undefined = pid;
  for (let i = 0; i <= depth && current !== undefined && current > 1; i++) {
    if (current === ancestor) return true;
    current = parentOf(current);
  }
  return false;
}

/**
 * Whether `pid`'s process group is the foreground group of its terminal: what a key typed into that
 * terminal reaches. False for a process suspended (Ctrl-Z) or started in the background, or with no
 * terminal; undefined when it cannot be told (gone, or no /proc and no ps).
 */
export function isInForeground(pid: number): boolean | undefined {
  if (hasProcFs()) {
    const stat = procStat(pid);
    return stat ? stat.tpgid > 0 && stat.tpgid === stat.pgrp : undefined;
  }
  const facts = psFacts(pid);
  return facts ? facts.tpgid > 0 && facts.tpgid === facts.pgid : undefined;
}

export interface ProcessCommand {
  /** The kernel's name for it (Linux: up to 15 characters of the file name; macOS ps: may be a path). */
  comm: string;
  /** Its arguments; from ps they are split at spaces, so a path holding spaces comes apart. */
  argv: string[];
}

/** What `pid` runs; undefined when it is gone. */
export function processCommand(pid: number): ProcessCommand | undefined {
  if (hasProcFs()) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8")
        .split("\0")
        .filter((a) => a !== "");
      return { comm, argv };
    } catch {
      // Gone between the two reads, or never there.
      return undefined;
    }
  }
  const comm = psText(pid, "comm");
  if (comm === undefined) return undefined;
  return { comm, argv: (psText(pid, "args") ?? "").split(/\s+/).filter((a) => a !== "") };
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
