// `tail --follow`: print messages as they are appended, without consuming them. Watches the
// role folder (inbox appends and compaction renames both touch it) with a slow poll as a
// safety net, since fs.watch can miss events on some filesystems.
import { watch } from "node:fs";
import { scanFile } from "./inbox.ts";
import type { InboxPosition } from "./inbox.ts";
import type { RolePaths } from "./layout.ts";
import { ensureRoleDir } from "./layout.ts";
import type { Message } from "./message.ts";

const POLL_MS = 1000;
const REMEMBER_IDS = 5000;

/** Resolves when the process is asked to stop (SIGINT/SIGTERM) or `signal` aborts. */
export function followTail(
  paths: RolePaths,
  /** Where the history shown before ended: everything after it is new. */
  from: InboxPosition,
  alreadyShown: Set<string>,
  onMessage: (m: Message) => void,
  signal?: AbortSignal,
): Promise<void> {
  ensureRoleDir(paths);
  const seen = new Set(alreadyShown);
  let position = from;

  const check = (): void => {
    // A new inode means compaction replaced the file: rescan it whole; ids already shown are skipped.
    const scan = scanFile(paths.inbox, (ino) => (ino === position.ino ? position.offset : 0));
    position = { ino: scan.ino, offset: scan.end };
    for (const e of scan.entries) {
      if (seen.has(e.message.id)) continue;
      seen.add(e.message.id);
      onMessage(e.message);
    }
    if (seen.size > REMEMBER_IDS) for (const id of [...seen].slice(0, seen.size - REMEMBER_IDS)) seen.delete(id);
  };

  return new Promise((resolve) => {
    const watcher = watch(paths.dir, check);
    // What arrived between the history read and the watch: printed now, not at the next event.
    check();
    const timer = setInterval(check, POLL_MS);
    const stop = (): void => {
      watcher.close();
      clearInterval(timer);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    signal?.addEventListener("abort", stop, { once: true });
  });
}
