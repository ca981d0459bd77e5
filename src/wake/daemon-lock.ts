// Whether the root's wake daemon is running, from its lock file <root>/spawner/daemon.pid
// ({pid, start, host, machine, startedAt}, written by src/spawner/state.ts acquireDaemonLock). Read here,
// below the faces, because every face that says what will happen to a message needs it: `send`
// and `bridge_send` (./forecast.ts), `spawner status`, `doctor`.
import { join } from "node:path";
import { isRecord, parseJson, readFileIfExists } from "../lib/fs.ts";
import { isSameProcessAlive } from "../lib/proc.ts";
import type { StartTime } from "../lib/proc.ts";
import { madeHere } from "../bus/machine.ts";

export interface DaemonHolder {
  pid: number;
  start?: StartTime;
  host: string;
  /** Absent in locks written by 0.2.0 and older (judged by host then). */
  machine?: string;
  startedAt: string;
}

export interface HolderView {
  holder?: DaemonHolder;
  running: boolean;
}

export function daemonPidPath(root: string): string {
  return join(root, "spawner", "daemon.pid");
}

export function parseHolder(content: string | undefined): DaemonHolder | undefined {
  const value = parseJson(content ?? "");
  return isRecord(value) && typeof value.pid === "number" && typeof value.host === "string"
    ? (value as unknown as DaemonHolder)
    : undefined;
}

export function holderAlive(holder: DaemonHolder): boolean {
  // Another machine's pid cannot be checked from here: count it as running (the file says how to clear it).
  return !madeHere(holder) || isSameProcessAlive(holder.pid, holder.start);
}

export function readDaemonHolder(root: string): HolderView {
  const holder = parseHolder(readFileIfExists(daemonPidPath(root)));
  return holder ? { holder, running: holderAlive(holder) } : { running: false };
}
