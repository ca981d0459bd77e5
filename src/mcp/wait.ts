// `bridge_wait`: block until the role has unread mail, then consume it through the same locked
// `receive` as every other reader (so racing consumers still get each message once). The role
// folder is watched (appends and compaction's rename both show up as events on inbox.jsonl),
// with a slow poll as a safety net because fs.watch can miss events on some filesystems.
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import type { ConsumeResult } from "../bus/inbox.ts";
import { peekUnread } from "../bus/inbox.ts";
import type { RolePaths } from "../bus/layout.ts";

const POLL_MS = 1000;

export type WaitOutcome = { kind: "messages"; result: ConsumeResult } | { kind: "timeout" } | { kind: "aborted" };

export interface WaitOptions {
  timeoutMs: number;
  signal: AbortSignal;
  /** Consumes (under the role lock); may return nothing when another reader won the race. */
  consume: () => ConsumeResult;
}

export function waitForMail(paths: RolePaths, options: WaitOptions): Promise<WaitOutcome> {
  const { signal } = options;
  if (signal.aborted) return Promise.resolve({ kind: "aborted" });
  return new Promise((resolve, reject) => {
    let watcher: FSWatcher | undefined;
    let poll: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (outcome: WaitOutcome | Error): void => {
      if (done) return;
      done = true;
      watcher?.close();
      clearInterval(poll);
      clearTimeout(deadline);
      signal.removeEventListener("abort", onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = (): void => finish({ kind: "aborted" });
    // Peek first: it takes no lock and writes nothing, so an idle wait never touches the folder it watches.
    const check = (): void => {
      if (done || signal.aborted) return;
      try {
        if (peekUnread(paths).entries.length === 0) return;
        const result = options.consume();
        if (result.messages.length > 0) finish({ kind: "messages", result });
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      // Watch before the first check, so mail appended in between still raises an event.
      watcher = watch(paths.dir, { persistent: false }, (_event, name) => {
        if (name === null || name === "inbox.jsonl") check();
      });
      watcher.on("error", () => {
        // The folder vanished or the watch broke: the poll below still sees new mail.
        watcher?.close();
      });
    } catch {
      // Watching is an optimisation (inotify limits, exotic filesystems): the poll is enough.
      watcher = undefined;
    }
    poll = setInterval(check, POLL_MS);
    deadline = setTimeout(() => finish({ kind: "timeout" }), options.timeoutMs);
    check();
  });
}
