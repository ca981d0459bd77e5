// Seeing new mail at once: one non-recursive fs.watch per folder of the tree
// projects/ → projects/<project>/ → projects/<project>/<role>/, kept in step as projects and roles
// appear. Node 20's `recursive: true` on Linux is a JavaScript emulation that puts a watch on every
// file (history, receipts, temp files…) and, in our tests, missed the first inbox of a role whose
// folder was created just after the watcher started (1 run in 6). Here every newly watched role
// folder is reported to the caller right after its watch is in place, so mail written before the
// watch existed is still seen; the daemon's periodic rescan covers anything else.
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { join } from "node:path";
import { isErrno } from "../lib/errors.ts";
import { listNameFolders, projectsDir } from "./layout.ts";

export interface InboxWatchEvents {
  /** The role's folder changed in a way that may be new mail (or it was just put under watch). */
  role(project: string, role: string): void;
  /** A watch failed; the caller's rescan will call `sync()` again. */
  error(err: Error): void;
}

export interface InboxWatch {
  /** Puts every current project and role folder under watch (cheap when nothing changed). */
  sync(): void;
  close(): void;
}

export function watchInboxes(root: string, events: InboxWatchEvents): InboxWatch {
  const watchers = new Map<string, FSWatcher>();
  let closed = false;

  const add = (dir: string, onChange: (filename: string | null) => void): boolean => {
    if (closed || watchers.has(dir)) return false;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, (_event, filename) => onChange(filename === null ? null : String(filename)));
    } catch (err) {
      // The folder vanished between listing and watching: nothing to watch.
      if (isErrno(err, "ENOENT", "ENOTDIR")) return false;
      throw err;
    }
    watcher.on("error", (err) => {
      drop(dir);
      events.error(err);
    });
    watchers.set(dir, watcher);
    return true;
  };

  const drop = (dir: string): void => {
    watchers.get(dir)?.close();
    watchers.delete(dir);
  };

  const syncRoles = (project: string): void => {
    const dir = join(projectsDir(root), project);
    add(dir, () => syncRoles(project));
    for (const role of listNameFolders(dir)) {
      // Only inbox writes (appends, compaction's rename) matter; cursor, wake and session files do not.
      if (add(join(dir, role), (f) => (f === null || f.startsWith("inbox.jsonl")) && events.role(project, role)))
        events.role(project, role);
    }
  };

  const sync = (): void => {
    const top = projectsDir(root);
    add(top, () => sync());
    const present = new Set<string>([top]);
    for (const project of listNameFolders(top)) {
      present.add(join(top, project));
      for (const role of listNameFolders(join(top, project))) present.add(join(top, project, role));
      syncRoles(project);
    }
    for (const dir of [...watchers.keys()]) if (!present.has(dir)) drop(dir);
  };

  return {
    sync,
    close() {
      closed = true;
      for (const dir of [...watchers.keys()]) drop(dir);
    },
  };
}
