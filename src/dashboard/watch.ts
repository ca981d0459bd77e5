// Noticing that what the dashboard shows may have changed: one non-recursive fs.watch per folder
// (the root for the settings file, spawner/ for the daemon's log and lock, projects/, each project,
// each role, each role's sessions/), kept in step as folders appear and go. Node 20's
// `recursive: true` on Linux puts a watch on every file and can miss a folder created right after
// it starts (see src/bus/watch.ts). Events are debounced into one `changed()` call; a slow poll
// calls it too, for what no file event announces: a session's process dying, a watch that failed.
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { join } from "node:path";
import { isErrno } from "../lib/errors.ts";
import { listNameFolders, projectsDir } from "../bus/layout.ts";
import { spawnerPaths } from "../spawner/state.ts";

export interface RootWatchOptions {
  /** Quiet time after the last event before `changed()` runs. */
  debounceMs?: number;
  /** A burst of events still gets `changed()` at least this often. */
  maxWaitMs?: number;
  pollMs?: number;
}

export interface RootWatch {
  /** How many folders are under watch (for diagnostics and tests). */
  size(): number;
  close(): void;
}

export function watchRoot(root: string, changed: () => void, options: RootWatchOptions = {}): RootWatch {
  const debounceMs = options.debounceMs ?? 60;
  const maxWaitMs = options.maxWaitMs ?? 250;
  const watchers = new Map<string, FSWatcher>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let firstEventAt: number | undefined;

  const fire = (): void => {
    timer = undefined;
    firstEventAt = undefined;
    if (closed) return;
    trySync();
    changed();
  };

  const schedule = (): void => {
    if (closed) return;
    const now = Date.now();
    firstEventAt ??= now;
    clearTimeout(timer);
    timer = setTimeout(fire, Math.max(0, Math.min(debounceMs, firstEventAt + maxWaitMs - now)));
  };

  const add = (dir: string): void => {
    if (watchers.has(dir)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, () => schedule());
    } catch (err) {
      // Not there (yet): the poll looks again.
      if (isErrno(err, "ENOENT", "ENOTDIR")) return;
      throw err;
    }
    watcher.on("error", () => {
      // The folder went away or the watch broke: drop it; the next sync re-adds what exists.
      drop(dir);
      schedule();
    });
    watchers.set(dir, watcher);
  };

  const drop = (dir: string): void => {
    watchers.get(dir)?.close();
    watchers.delete(dir);
  };

  const sync = (): void => {
    if (closed) return;
    const wanted = [root, spawnerPaths(root).dir, projectsDir(root)];
    for (const project of listNameFolders(projectsDir(root))) {
      const pdir = join(projectsDir(root), project);
      wanted.push(pdir);
      for (const role of listNameFolders(pdir)) wanted.push(join(pdir, role), join(pdir, role, "sessions"));
    }
    for (const dir of wanted) add(dir);
    const keep = new Set(wanted);
    for (const dir of [...watchers.keys()]) if (!keep.has(dir)) drop(dir);
  };

  const trySync = (): void => {
    try {
      sync();
    } catch {
      // An unreadable folder (EACCES): the snapshot names it to the user; the next poll tries again.
    }
  };

  trySync();
  const poll = setInterval(fire, options.pollMs ?? 2000);

  return {
    size: () => watchers.size,
    close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(timer);
      for (const dir of [...watchers.keys()]) drop(dir);
    },
  };
}
