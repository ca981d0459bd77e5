// The file store behind the Store interface: the synchronous functions of src/bus.ts, called as
// they always were (same speed, same promises: docs/architecture.md "The store").
import { messageStatus, peek, pathsOf, receive, roleSummaries, sendMessage, tail } from "../bus.ts";
import { followTail } from "../bus/follow.ts";
import { watchInboxes } from "../bus/watch.ts";
import { listSessions, registerSession } from "../bus/sessions.ts";
import type { Store } from "./types.ts";

export function fileStore(root: string): Store {
  return {
    kind: "file",
    where: root,
    send: async (request) => sendMessage(request),
    // The file store commits (cursor renamed into place) before anything is shown: a reader
    // killed in between leaves the messages read by it, never delivered twice.
    async receive(identity, options, deliver) {
      const result = { ...receive(identity, options), redelivered: [] };
      if (deliver) await deliver(result);
      return result;
    },
    peek: async (identity) => peek(identity),
    tail: async (identity, limit) => tail(identity, limit),
    async follow(identity, limit, h) {
      const history = tail(identity, limit);
      for (const s of history.messages) h.message(s.message, s.read);
      h.skipped(history.skipped);
      // From where the history read ended, so a message appended in between is printed, not lost.
      await followTail(
        pathsOf(identity),
        history.end,
        new Set(history.messages.map((s) => s.message.id)),
        (m) => h.message(m, undefined),
        h.signal,
      );
    },
    watch(projects, changed, pollMs) {
      const inboxes = watchInboxes(root, {
        role: (project) => projects.includes(project) && changed(),
        // A watch that failed is put back by the next sync.
        error: () => {},
      });
      const look = (): void => {
        try {
          inboxes.sync();
        } catch {
          // An unreadable root: the view's own reads say why.
        }
      };
      look();
      const timer = setInterval(() => {
        look();
        changed();
      }, pollMs);
      return {
        close() {
          clearInterval(timer);
          inboxes.close();
        },
      };
    },
    roles: async (project) => roleSummaries(root, project),
    status: async (project, id) => messageStatus(root, project, id),
    async touchSession(identity, info) {
      return { ...registerSession(pathsOf(identity), info), live: true };
    },
    sessions: async (identity) => listSessions(pathsOf(identity)),
    close: async () => {},
  };
}
