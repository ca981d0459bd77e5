// The daemon's own files under <root>/spawner/:
//   daemon.pid     O_EXCL single-instance lock: {pid, start, host, machine, startedAt}
//   state.json     per role: how far the daemon has looked in the inbox (its position, separate
//                  from the role's consumer cursor), the spawned run in flight, the last run
//   log.jsonl      one JSON object per event (rotated to log.1.jsonl past a size); read back
//                  by readRecentLog (the dashboard's spawner panel)
//   runs/          one log file per spawned run, newest kept
import { closeSync, constants, fstatSync, openSync, readdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import { BridgeError, isErrno } from "../lib/errors.ts";
import {
  ensureDir,
  FILE_MODE,
  isRecord,
  openForAppend,
  openNoFollow,
  parseJson,
  readFileIfExists,
  removeQuietly,
  writeAll,
  writeFileAtomic,
  readAt,
} from "../lib/fs.ts";
import { ensureRoot } from "../bus/layout.ts";
import { oneLine } from "../lib/text.ts";
import { withLock } from "../bus/lock.ts";
import { processStartTime } from "../lib/proc.ts";
import type { StartTime } from "../lib/proc.ts";
import { madeHere, machineStamp } from "../bus/machine.ts";
import { daemonPidPath, holderAlive, parseHolder } from "../wake/daemon-lock.ts";
import type { DaemonHolder } from "../wake/daemon-lock.ts";
import type { Position } from "../wake/batch.ts";
import { isoTime } from "../lib/time.ts";

export interface SpawnerPaths {
  dir: string;
  pid: string;
  state: string;
  log: string;
  /** The previous log, moved aside when log.jsonl passed its size limit. */
  rotatedLog: string;
  runs: string;
}

export function spawnerPaths(root: string): SpawnerPaths {
  const dir = join(root, "spawner");
  return {
    dir,
    pid: daemonPidPath(root),
    state: join(dir, "state.json"),
    log: join(dir, "log.jsonl"),
    rotatedLog: join(dir, "log.1.jsonl"),
    runs: join(dir, "runs"),
  };
}

// A pid file still empty this long after creation belongs to a daemon that died while starting.
const UNWRITTEN_GRACE_MS = 2000;

export { readDaemonHolder } from "../wake/daemon-lock.ts";
export type { DaemonHolder, HolderView } from "../wake/daemon-lock.ts";

export interface DaemonLock {
  holder: DaemonHolder;
  /** The dead daemon whose lock was taken over, if any. */
  tookOver?: DaemonHolder | "unreadable";
  release(): void;
}

/** Becomes the root's one daemon, taking over the lock of a dead one; E_LOCKED names a live one. */
export function acquireDaemonLock(root: string): DaemonLock {
  ensureRoot(root);
  const paths = spawnerPaths(root);
  ensureDir(paths.dir);
  const holder: DaemonHolder = { pid: process.pid, ...machineStamp(), startedAt: isoTime() };
  const start = processStartTime(process.pid);
  if (start !== undefined) holder.start = start;
  const content = JSON.stringify(holder) + "\n";
  let tookOver: DaemonLock["tookOver"];
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(paths.pid, content)) {
      return {
        holder,
        ...(tookOver !== undefined && { tookOver }),
        release() {
          // Only our own file: after a takeover by someone else it is theirs.
          if (readFileIfExists(paths.pid) === content) removeQuietly(paths.pid);
        },
      };
    }
    const seen = readFileIfExists(paths.pid);
    if (seen === undefined) continue;
    const other = parseHolder(seen);
    if (other && holderAlive(other)) {
      const here = madeHere(other);
      const where = here ? `pid ${other.pid}` : `pid ${other.pid} on host ${other.host} (another machine)`;
      throw new BridgeError(
        "E_LOCKED",
        `a spawner daemon is already running for ${root} (${where}, since ${other.startedAt}); only one may run per root: stop it first (kill ${other.pid}), or see it with \`session-bridge spawner status\`${here ? "" : `; if it is gone, remove ${paths.pid}`}`,
      );
    }
    if (!other && ageMs(paths.pid) < UNWRITTEN_GRACE_MS) {
      throw new BridgeError(
        "E_LOCKED",
        `another spawner daemon is starting for ${root} (${paths.pid} is being written); try again in a moment`,
      );
    }
    // Stale: remove it only if it is still the very file judged stale (two takers serialise here).
    withLock(`${paths.pid}.takeover`, () => {
      if (readFileIfExists(paths.pid) === seen) removeQuietly(paths.pid);
    });
    tookOver = other ?? "unreadable";
  }
  throw new BridgeError("E_LOCKED", `could not take the daemon lock ${paths.pid} (it keeps changing); is another daemon starting?`);
}

function tryCreate(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, FILE_MODE);
  } catch (err) {
    if (isErrno(err, "EEXIST")) return false;
    throw err;
  }
  try {
    writeAll(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

function ageMs(path: string): number {
  try {
    return Math.abs(Date.now() - statSync(path).mtimeMs);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return Number.POSITIVE_INFINITY;
    throw err;
  }
}

export interface ActiveRun {
  pid: number;
  start?: StartTime;
  log: string;
  startedAt: string;
  /** The role's own session the run continues (`claude session ID`…), when it resumed one. */
  resumed?: string;
}

export interface LastRun {
  log: string;
  startedAt: string;
  endedAt: string;
  outcome: string;
  resumed?: string;
}

export interface DaemonState {
  positions: Record<string, Position>;
  runs: Record<string, ActiveRun>;
  lastRuns: Record<string, LastRun>;
}

export function roleKey(project: string, role: string): string {
  return `${project}/${role}`;
}

/** The saved state; anything unreadable reads as empty (the daemon then starts from the inbox ends). */
export function loadDaemonState(root: string): DaemonState {
  const value = parseJson(readFileIfExists(spawnerPaths(root).state) ?? "");
  const pick = <T>(v: unknown, ok: (x: Record<string, unknown>) => boolean): Record<string, T> => {
    const out: Record<string, T> = {};
    if (isRecord(v)) for (const [k, x] of Object.entries(v)) if (isRecord(x) && ok(x)) out[k] = x as T;
    return out;
  };
  const state = isRecord(value) ? value : {};
  return {
    positions: pick<Position>(state.positions, (x) => typeof x.ino === "number" && typeof x.offset === "number" && x.offset >= 0),
    runs: pick<ActiveRun>(state.runs, (x) => typeof x.pid === "number" && typeof x.log === "string"),
    lastRuns: pick<LastRun>(state.lastRuns, (x) => typeof x.log === "string" && typeof x.outcome === "string"),
  };
}

export function saveDaemonState(root: string, state: DaemonState): void {
  writeFileAtomic(spawnerPaths(root).state, JSON.stringify(state) + "\n");
}

export interface LogEntry {
  event: string;
  /** One human-readable line. */
  msg: string;
  project?: string;
  role?: string;
  [key: string]: unknown;
}

export type Logger = (entry: LogEntry) => void;

export const LOG_MAX_BYTES = 1024 * 1024;

/**
 * Appends each entry to log.jsonl (with `ts` and a sub-millisecond epoch `t`) and a line to
 * stderr; past `maxBytes` the file moves to log.1.jsonl, so the log stays bounded.
 */
export function createLogger(root: string, options: { stderr?: (line: string) => void; maxBytes?: number } = {}): Logger {
  const paths = spawnerPaths(root);
  const maxBytes = options.maxBytes ?? LOG_MAX_BYTES;
  return (entry) => {
    const t = performance.timeOrigin + performance.now();
    const ts = isoTime(t);
    const where = entry.project !== undefined ? ` ${entry.project}/${entry.role ?? "?"}` : "";
    options.stderr?.(`${ts} ${entry.event}${where}: ${entry.msg}`);
    try {
      const { fd } = openForAppend(paths.log);
      try {
        writeAll(fd, JSON.stringify({ ts, t, ...entry }) + "\n");
        if (fstatSync(fd).size > maxBytes) renameSync(paths.log, paths.rotatedLog);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      // The log must never take the daemon down (disk full, folder removed): stderr still has it.
      options.stderr?.(`${ts} log-error: cannot write ${paths.log}: ${(err as Error).message}`);
    }
  };
}

/** A log line as written by createLogger: the entry plus its time. */
export interface LoggedEntry extends LogEntry {
  ts: string;
}

/** How much of each log file's end readRecentLog looks at: enough for hundreds of events, never the whole file. */
const LOG_TAIL_BYTES = 256 * 1024;

/**
 * The newest `limit` events, oldest first: the end of log.jsonl, and of log.1.jsonl when the
 * current file holds fewer. Lines that are not an event (torn by a crash, edited) are skipped.
 */
export function readRecentLog(root: string, limit: number): LoggedEntry[] {
  if (limit <= 0) return [];
  const paths = spawnerPaths(root);
  let entries = tailEntries(paths.log);
  if (entries.length < limit) entries = [...tailEntries(paths.rotatedLog), ...entries];
  return entries.slice(-limit);
}

function tailEntries(path: string): LoggedEntry[] {
  let fd: number;
  try {
    fd = openNoFollow(path, constants.O_RDONLY);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return [];
    throw err;
  }
  let text: string;
  let cut: boolean;
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - LOG_TAIL_BYTES);
    text = readAt(fd, start, size - start).toString("utf8");
    cut = start > 0;
  } finally {
    closeSync(fd);
  }
  const lines = text.split("\n");
  // Reading from the middle of the file: the first piece is the end of a line, not a line.
  if (cut) lines.shift();
  const entries: LoggedEntry[] = [];
  for (const line of lines) {
    const value = parseJson(line);
    if (isRecord(value) && typeof value.event === "string" && typeof value.msg === "string" && typeof value.ts === "string") {
      entries.push(value as LoggedEntry);
    }
  }
  return entries;
}

/** How many of a run's last lines `spawner status` and the dashboard show, and how much is read for them. */
export const RUN_TAIL_LINES = 5;
const RUN_TAIL_BYTES = 4096;
const RUN_TAIL_LINE_CHARS = 300;
// What startRun writes around the run's own output (src/spawner/drivers/spawn.ts).
const RUN_HEADER = /^# session-bridge spawn run, /;
const RUN_FOOTER = /^# (?:exit -?\d+ after|killed after|ended by|did not start)/;

/**
 * The last lines a spawned run printed (the reason it failed, most often), without the header and
 * footer session-bridge writes around them: read from the file's last 4 KiB, each line one line of
 * text that cannot drive a terminal, cut to 300 characters. [] when the log is gone.
 */
export function runLogTail(path: string, lines = RUN_TAIL_LINES): string[] {
  let fd: number;
  try {
    fd = openNoFollow(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    // Pruned, or a link planted in its place (never followed): nothing to show.
    if (isErrno(err, "ENOENT") || (err instanceof BridgeError && err.code === "E_SYMLINK")) return [];
    throw err;
  }
  let text: string;
  let start: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return [];
    start = Math.max(0, st.size - RUN_TAIL_BYTES);
    text = readAt(fd, start, st.size - start).toString("utf8");
  } finally {
    closeSync(fd);
  }
  const all = text.split("\n");
  // Read from the middle of the file: the first piece is the end of a line, not a line.
  if (start > 0) all.shift();
  else if (RUN_HEADER.test(all[0] ?? "")) all.splice(0, 4);
  const kept = all.map((l) => l.trimEnd()).filter((l) => l !== "");
  if (RUN_FOOTER.test(kept.at(-1) ?? "")) kept.pop();
  return kept.slice(-lines).map((l) => oneLine(l.length > RUN_TAIL_LINE_CHARS ? `${l.slice(0, RUN_TAIL_LINE_CHARS)}…` : l));
}

export const RUN_LOGS_KEPT = 200;

export function runLogPath(root: string, project: string, role: string, now: number): string {
  const stamp = isoTime(now).replace(/[-:]/g, "");
  return join(spawnerPaths(root).runs, `${stamp}-${project}-${role}.log`);
}

/** Keeps the newest run logs (names start with their time, so name order is age order). */
export function pruneRunLogs(root: string, keep = RUN_LOGS_KEPT): void {
  const dir = spawnerPaths(root).runs;
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith(".log"))
      .sort();
  } catch (err) {
    if (isErrno(err, "ENOENT")) return;
    throw err;
  }
  for (const name of names.slice(0, Math.max(0, names.length - keep))) removeQuietly(join(dir, name));
}
