// The dashboard's snapshot when BRIDGE_URL names Redis: the same document as ./data.ts, its rooms
// read through the store (roles with unread counts and sessions, each role's kept messages), the
// rest from this machine as before (the settings file, the wake daemon's lock and log). Which
// projects: the ones named (README "Dashboard"), since the bus user may be confined to one
// project's keys and cannot list the others. What Redis does not hold is said, not faked: the
// wake bookkeeping (last wake, last refusal, where a wake would go) belongs to each machine's
// daemon, so those fields stay empty and `store.notes` says why.
import type { Store } from "../store/store.ts";
import { loadSettingsLenient } from "../settings/file.ts";
import { effectiveRole } from "../settings/schema.ts";
import { readRecentLog, spawnerPaths } from "../spawner/state.ts";
import { describeWhere } from "../bus/sessions.ts";
import type { SessionView } from "../bus/sessions.ts";
import { describeError } from "../lib/errors.ts";
import { readDaemonHolder } from "../wake/daemon-lock.ts";
import { LOG_EVENTS, MESSAGES_PER_PROJECT, automationView, eventView, homeRelative, mergeMessages, modeLabel, safely } from "./data.ts";
import type { DashboardSnapshot, ProjectView, RoleView, Snapshotter } from "./data.ts";

export const REDIS_TARGET = "decided by the daemon of the machine holding the role";

export function createStoreSnapshotter(root: string, store: Store, projects: string[], options: { admin: boolean }): Snapshotter {
  // While the engine is away the page keeps what it last read of a project (the problem is named above it).
  const lastGood = new Map<string, ProjectView>();
  return {
    async snapshot(): Promise<DashboardSnapshot> {
      const problems: string[] = [];
      const { settings, error } = loadSettingsLenient(root);
      const shown: ProjectView[] = [];
      for (const name of projects) {
        const before = problems.length;
        const view = await projectView(root, store, settings, name, problems);
        if (problems.length === before) lastGood.set(name, view);
        shown.push(problems.length === before ? view : (lastGood.get(name) ?? view));
      }
      const holder = safely(problems, "reading the wake daemon's lock", () => readDaemonHolder(root), { running: false });
      const events = safely(problems, "reading the spawner log", () => readRecentLog(root, LOG_EVENTS), [])
        .reverse()
        .map(eventView);
      return {
        version: __VERSION__,
        root,
        rootLabel: `${store.where} · settings ${homeRelative(root)}`,
        admin: options.admin,
        automation: { ...automationView(settings), ...(error && { configError: error.message }) },
        daemon: {
          running: holder.running,
          ...(holder.holder && holder.running && { pid: holder.holder.pid, startedAt: holder.holder.startedAt }),
          log: spawnerPaths(root).log,
        },
        projects: shown,
        events,
        problems,
        store: {
          kind: "redis",
          where: store.where,
          notes: [
            `Messages, unread counts and sessions come from ${store.where}; projects shown: ${projects.join(", ")} (--project, BRIDGE_PROJECT and this machine's settings).`,
            "Last wakes and refusals, which the daemons keep in Redis, are not shown here yet: `session-bridge spawner status` shows them; the daemon and its events below are this machine's.",
          ],
        },
      };
    },
  };
}

async function projectView(
  root: string,
  store: Store,
  settings: ReturnType<typeof loadSettingsLenient>["settings"],
  name: string,
  problems: string[],
): Promise<ProjectView> {
  const summaries = await store.roles(name).catch((err: unknown) => {
    problems.push(`reading project ${name} at ${store.where}: ${describeError(err)}`);
    return [];
  });
  const roles: RoleView[] = summaries.map((r) => roleView(settings, name, r.role, true, r.sessions, r.unread));
  // Roles configured before they joined are shown too, as on the file store, so a typo in a name is visible.
  for (const role of Object.keys(settings.projects[name]?.roles ?? {}))
    if (!roles.some((r) => r.role === role)) roles.push(roleView(settings, name, role, false, [], 0));
  roles.sort((a, b) => a.role.localeCompare(b.role));
  const perRole = [];
  for (const role of roles.filter((r) => r.joined)) {
    const kept = await store.tail({ root, project: name, role: role.role }, MESSAGES_PER_PROJECT).catch((err: unknown) => {
      problems.push(`reading the messages of ${name}/${role.role} at ${store.where}: ${describeError(err)}`);
      return { messages: [], skipped: 0 };
    });
    perRole.push({ role: role.role, kept });
  }
  const messages = mergeMessages(perRole);
  return { name, roles, messages: messages.views, totalMessages: messages.total, skippedLines: messages.skipped };
}

function roleView(
  settings: ReturnType<typeof loadSettingsLenient>["settings"],
  project: string,
  role: string,
  joined: boolean,
  all: SessionView[],
  unread: number,
): RoleView {
  const eff = effectiveRole(settings, project, role);
  const live = all.filter((s) => s.live);
  const shown = live.length > 0 ? live : all.slice(0, 1);
  return {
    role,
    joined,
    live: live.length > 0,
    sessions: shown.map((s) => ({ where: describeWhere(s), live: s.live, lastSeen: s.lastSeen })),
    mode: modeLabel(settings, project, role),
    auto: eff.auto,
    why: eff.why,
    driver: eff.driver,
    target: REDIS_TARGET,
    unread,
  };
}
