// What the dashboard shows, as one JSON document: every project with its roles (live or not and
// where, mode, unread, last wake, last refusal), its newest messages merged across the roles'
// inboxes and history, the automation settings, the daemon and its newest log events. Built only
// from the store's own readers (collectStatus, readAllKept, listSessions, readRecentLog) and
// bounded, so a long history never makes a large page.
import { statSync } from "node:fs";
import { homedir } from "node:os";
import { sep } from "node:path";
import { listProjects, listRoles } from "../bus.ts";
import { loadSettingsLenient } from "../settings/file.ts";
import { describeError, isErrno } from "../lib/errors.ts";
import { listHistory } from "../bus/history.ts";
import { readAllKept } from "../bus/inbox.ts";
import type { StoredMessage } from "../bus/inbox.ts";
import { rolePaths } from "../bus/layout.ts";
import type { RolePaths } from "../bus/layout.ts";
import { effectiveRole } from "../settings/schema.ts";
import type { Settings } from "../settings/schema.ts";
import { describeWhere, listSessions } from "../bus/sessions.ts";
import { readRecentLog } from "../spawner/state.ts";
import { collectStatus } from "../spawner/status.ts";
import type { RoleStatus, SpawnerStatus } from "../spawner/status.ts";

/** Newest messages kept per project; older ones stay on disk (`session-bridge tail` shows them). */
export const MESSAGES_PER_PROJECT = 200;
/** A body longer than this is cut in the page, which says so. */
export const BODY_CHARS = 16_000;
export const LOG_EVENTS = 80;
const LOG_MSG_CHARS = 600;

export type ModeLabel = "auto" | "manual" | "default-off";

export interface SessionLine {
  where: string;
  live: boolean;
  lastSeen: string;
}

export interface RoleView {
  role: string;
  /** False for a role only named in the settings (it has no folder yet). */
  joined: boolean;
  live: boolean;
  /** Live sessions, or the last one seen when none is live. */
  sessions: SessionLine[];
  mode: ModeLabel;
  /** Whether the role is woken automatically right now (its mode and the master switch). */
  auto: boolean;
  why: string;
  driver: string;
  /** Where a wake would go (a tmux pane, `claude -p in CWD`) or what is missing. */
  target: string;
  unread: number;
  lastWake?: RoleStatus["lastWake"];
  lastRefusal?: RoleStatus["lastRefusal"];
  notWoken?: string;
  inFlightSince?: string;
  run?: { pid: number; startedAt: string };
  /** With `tail`, the run's last lines when it did not exit 0 (src/spawner/state.ts runLogTail). */
  lastRun?: { outcome: string; endedAt: string; tail?: string[] };
}

export interface MessageView {
  id: string;
  ts: string;
  from: string;
  /** A role, or "*" for a broadcast. */
  to: string;
  /** The roles whose inbox holds the message, and whether each has read it. */
  recipients: { role: string; read: boolean }[];
  chain: string;
  hop: number;
  replyTo?: string;
  body: string;
  /** Length of the whole body; more than body.length when it was cut. */
  bodyChars: number;
}

export interface ProjectView {
  name: string;
  roles: RoleView[];
  /** Newest first, at most MESSAGES_PER_PROJECT. */
  messages: MessageView[];
  totalMessages: number;
  skippedLines: number;
}

export interface EventView {
  ts: string;
  event: string;
  msg: string;
  project?: string;
  role?: string;
  code?: string;
}

export interface DashboardSnapshot {
  version: string;
  root: string;
  /** The root as a person reads it: ~/… when under the home folder. */
  rootLabel: string;
  admin: boolean;
  automation: SpawnerStatus["settings"] & { configError?: string };
  daemon: SpawnerStatus["daemon"];
  projects: ProjectView[];
  /** The daemon's newest log events, newest first. */
  events: EventView[];
  /** Parts that could not be read (a symlink planted in the root, a permission error…). */
  problems: string[];
  /** Only when BRIDGE_URL names Redis: where the messages are, and what this view cannot show there. */
  store?: { kind: "redis"; where: string; notes: string[] };
}

interface CachedRole {
  signature: string;
  kept: { messages: StoredMessage[]; skipped: number };
}

export interface Snapshotter {
  snapshot(): DashboardSnapshot | Promise<DashboardSnapshot>;
}

/**
 * Builds snapshots for one root. A role's kept messages are parsed again only when its inbox,
 * cursor or history changed (a stat each), so the live page costs little while nothing moves.
 */
export function createSnapshotter(root: string, options: { admin: boolean }): { snapshot(): DashboardSnapshot } {
  const cache = new Map<string, CachedRole>();

  const keptOf = (paths: RolePaths, used: Set<string>): CachedRole["kept"] => {
    used.add(paths.dir);
    const signature = [
      statKey(paths.inbox),
      statKey(paths.cursor),
      listHistory(paths)
        .map((h) => `${h.seq}:${statKey(h.path)}`)
        .join(","),
    ].join("|");
    const hit = cache.get(paths.dir);
    if (hit && hit.signature === signature) return hit.kept;
    const kept = readAllKept(paths);
    cache.set(paths.dir, { signature, kept });
    return kept;
  };

  return {
    snapshot() {
      const problems: string[] = [];
      const used = new Set<string>();
      const { settings, error } = loadSettingsLenient(root);
      const status = safely(problems, "reading the roles' status", () => collectStatus(root), undefined);
      const listed = safely(problems, "listing the projects", () => listProjects(root), []);
      const statusRoles = status?.roles ?? bareRoles(root, settings, listed, problems);
      const names = new Set([...listed, ...statusRoles.map((r) => r.project)]);
      const projects = [...names].sort().map((name) => {
        const roles = statusRoles.filter((r) => r.project === name).map((r) => roleView(root, settings, r, problems));
        const read = (paths: RolePaths): CachedRole["kept"] => keptOf(paths, used);
        const messages = projectMessages(root, name, roles, read, problems);
        return { name, roles, messages: messages.views, totalMessages: messages.total, skippedLines: messages.skipped };
      });
      for (const key of [...cache.keys()]) if (!used.has(key)) cache.delete(key);
      const events = safely(problems, "reading the spawner log", () => readRecentLog(root, LOG_EVENTS), [])
        .reverse()
        .map(eventView);
      return {
        version: __VERSION__,
        root,
        rootLabel: homeRelative(root),
        admin: options.admin,
        automation: { ...(status?.settings ?? automationView(settings)), ...(error && { configError: error.message }) },
        daemon: status?.daemon ?? { running: false, log: "" },
        projects,
        events,
        problems,
      };
    },
  };
}

/** The automation settings the page shows (the same fields `spawner status` reports). */
export function automationView(settings: Settings): SpawnerStatus["settings"] {
  const { enabled, defaultMode, driver, maxHops, rateLimitPerMinute, cooldownSeconds, defaultOffRoles, denyTools, nudgePrompt } = settings;
  return { enabled, defaultMode, driver, maxHops, rateLimitPerMinute, cooldownSeconds, defaultOffRoles, denyTools, nudgePrompt };
}

function roleView(root: string, settings: Settings, r: RoleStatus, problems: string[]): RoleView {
  const eff = effectiveRole(settings, r.project, r.role);
  const mode = modeLabel(settings, r.project, r.role);
  const all = r.joined
    ? safely(problems, `reading the sessions of ${r.project}/${r.role}`, () => listSessions(rolePaths(root, r.project, r.role)), [])
    : [];
  const live = all.filter((s) => s.live);
  const shown = live.length > 0 ? live : all.slice(0, 1);
  return {
    role: r.role,
    joined: r.joined,
    live: live.length > 0,
    sessions: shown.map((s) => ({ where: describeWhere(s), live: s.live, lastSeen: s.lastSeen })),
    mode,
    auto: r.auto,
    why: eff.why,
    driver: r.driver,
    target: r.target,
    unread: r.unread,
    ...(r.lastWake && { lastWake: r.lastWake }),
    ...(r.lastRefusal && { lastRefusal: r.lastRefusal }),
    ...(r.notWoken !== undefined && { notWoken: r.notWoken }),
    ...(r.inFlightSince !== undefined && { inFlightSince: r.inFlightSince }),
    ...(r.run && { run: { pid: r.run.pid, startedAt: r.run.startedAt } }),
    ...(r.lastRun && {
      lastRun: { outcome: r.lastRun.outcome, endedAt: r.lastRun.endedAt, ...(r.lastRun.tail && { tail: r.lastRun.tail }) },
    }),
  };
}

/** A role's mode as the page shows it: "default-off" for a role switched off only by defaultOffRoles. */
export function modeLabel(settings: Settings, project: string, role: string): ModeLabel {
  const named = settings.projects[project]?.roles?.[role]?.mode;
  return named === undefined && settings.defaultOffRoles.includes(role) ? "default-off" : effectiveRole(settings, project, role).mode;
}

/** One entry per message id: a broadcast sits in every recipient's inbox, each with its own read state. */
function projectMessages(
  root: string,
  project: string,
  roles: RoleView[],
  keptOf: (paths: RolePaths) => CachedRole["kept"],
  problems: string[],
): { views: MessageView[]; total: number; skipped: number } {
  return mergeMessages(
    roles
      .filter((role) => role.joined)
      .map((role) => ({
        role: role.role,
        kept: safely(problems, `reading the messages of ${project}/${role.role}`, () => keptOf(rolePaths(root, project, role.role)), {
          messages: [],
          skipped: 0,
        }),
      })),
  );
}

/** The roles' kept messages as one timeline, newest first, at most MESSAGES_PER_PROJECT (any store). */
export function mergeMessages(perRole: { role: string; kept: CachedRole["kept"] }[]): {
  views: MessageView[];
  total: number;
  skipped: number;
} {
  const byId = new Map<string, MessageView>();
  let skipped = 0;
  for (const { role, kept } of perRole) {
    skipped += kept.skipped;
    for (const { message, read } of kept.messages) {
      let view = byId.get(message.id);
      if (!view) {
        const body = cut(message.body, BODY_CHARS);
        view = {
          id: message.id,
          ts: message.ts,
          from: message.from,
          to: message.to,
          recipients: [],
          chain: message.chain,
          hop: message.hop,
          ...(message.replyTo !== undefined && { replyTo: message.replyTo }),
          body,
          bodyChars: message.body.length,
        };
        byId.set(message.id, view);
      }
      view.recipients.push({ role, read });
    }
  }
  // Ids start with the send time in base 36, so they break ties between equal timestamps in order.
  const all = [...byId.values()].sort((a, b) => (a.ts === b.ts ? cmp(b.id, a.id) : cmp(b.ts, a.ts)));
  return { views: all.slice(0, MESSAGES_PER_PROJECT), total: all.length, skipped };
}

/** When the status cannot be read as a whole: each joined role with its settings, so the page still lists it. */
function bareRoles(root: string, settings: Settings, projects: string[], problems: string[]): RoleStatus[] {
  const roles: RoleStatus[] = [];
  for (const project of projects) {
    for (const role of safely(problems, `listing the roles of ${project}`, () => listRoles(root, project), [])) {
      const eff = effectiveRole(settings, project, role);
      roles.push({
        project,
        role,
        joined: true,
        auto: eff.auto,
        mode: eff.mode,
        driver: eff.driver,
        target: "unknown (see the problem above)",
        unread: 0,
      });
    }
  }
  return roles;
}

export function eventView(e: ReturnType<typeof readRecentLog>[number]): EventView {
  const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const view: EventView = { ts: e.ts, event: e.event, msg: cut(e.msg, LOG_MSG_CHARS) };
  const project = text(e.project);
  const role = text(e.role);
  const code = text(e.code);
  if (project !== undefined) view.project = project;
  if (role !== undefined) view.role = role;
  if (code !== undefined) view.code = code;
  return view;
}

/** The first `max` characters, never ending on half of a surrogate pair. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const high = text.charCodeAt(max - 1);
  return text.slice(0, high >= 0xd800 && high <= 0xdbff ? max - 1 : max);
}

export function homeRelative(path: string): string {
  const home = homedir();
  return home.length > 1 && (path === home || path.startsWith(home + sep)) ? `~${path.slice(home.length)}` : path;
}

function statKey(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return "-";
    throw err;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One unreadable part must not blank the page: it is named in `problems` and the rest is shown. */
export function safely<T>(problems: string[], what: string, fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch (err) {
    problems.push(`${what}: ${describeError(err)}`);
    return fallback;
  }
}
