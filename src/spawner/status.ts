// `spawner status`: the daemon, the settings, and for each role its mode, driver, target, last
// wake and why it was not woken. Reads files only (no tmux calls): the daemon and `hook wait`
// record every decision with its reason in the role's wake.json.
import { listProjects, listRoles } from "../bus.ts";
import { loadSettingsLenient } from "../settings/file.ts";
import { peekUnread } from "../bus/inbox.ts";
import { rolePaths } from "../bus/layout.ts";
import { effectiveRole } from "../settings/schema.ts";
import type { EffectiveRole, Settings } from "../settings/schema.ts";
import { describeWhere, listSessions } from "../bus/sessions.ts";
import { loadDaemonState, readDaemonHolder, roleKey, runLogTail, spawnerPaths } from "./state.ts";
import type { ActiveRun, LastRun } from "./state.ts";
import { readWakeState } from "../wake/state.ts";
import { describeSpawnTarget, resolveSpawnTarget } from "./drivers/spawn-target.ts";
import { socketCandidate } from "../wake/targets.ts";
import type { RefusalRecord, WakeRecord, WakeState } from "../wake/state.ts";
import { isoTime } from "../lib/time.ts";

export interface RoleStatus {
  project: string;
  role: string;
  joined: boolean;
  auto: boolean;
  mode: string;
  driver: string;
  /** Where a wake would go (a pane, a cwd) or what is missing. */
  target: string;
  unread: number;
  lastWake?: WakeRecord;
  lastRefusal?: RefusalRecord;
  /** Why the newest new mail did not wake the role (absent when the last decision was a wake). */
  notWoken?: string;
  inFlightSince?: string;
  run?: ActiveRun;
  /** With `tail`, the run's last lines, when it did not exit 0. */
  lastRun?: LastRun & { tail?: string[] };
}

/** On Redis: the roles and their wake bookkeeping as the store has them (src/spawner/redis-source.ts). */
export interface StoreView {
  where: string;
  roles: { project: string; role: string; unread: number; wake: WakeState }[];
}

export interface SpawnerStatus {
  root: string;
  /** The Redis store the roles, unread counts and wake bookkeeping were read from (absent: the file store). */
  store?: string;
  daemon: { running: boolean; pid?: number; startedAt?: string; log: string };
  configError?: string;
  settings: Pick<
    Settings,
    | "enabled"
    | "defaultMode"
    | "driver"
    | "maxHops"
    | "rateLimitPerMinute"
    | "cooldownSeconds"
    | "defaultOffRoles"
    | "denyTools"
    | "nudgePrompt"
  >;
  roles: RoleStatus[];
}

/** `env`: whose PATH and agent homes the spawn targets are judged by (the caller's; the daemon may differ). */
export function collectStatus(root: string, env: NodeJS.ProcessEnv = process.env, store?: StoreView): SpawnerStatus {
  const { settings, error } = loadSettingsLenient(root);
  const view = readDaemonHolder(root);
  const state = loadDaemonState(root);
  const keys = new Map<string, [string, string, boolean]>();
  const held = new Map(store?.roles.map((r) => [roleKey(r.project, r.role), r]));
  if (store) for (const r of store.roles) keys.set(roleKey(r.project, r.role), [r.project, r.role, true]);
  else
    for (const project of listProjects(root))
      for (const role of listRoles(root, project)) keys.set(roleKey(project, role), [project, role, true]);
  // Roles configured before they joined are shown too, so a typo in a name is visible.
  for (const [project, ps] of Object.entries(settings.projects)) {
    for (const role of Object.keys(ps.roles ?? {}))
      if (!keys.has(roleKey(project, role))) keys.set(roleKey(project, role), [project, role, false]);
  }
  const roles = [...keys.values()]
    .sort((a, b) => roleKey(a[0], a[1]).localeCompare(roleKey(b[0], b[1])))
    .map(([project, role, joined]) =>
      roleStatus(
        root,
        settings,
        project,
        role,
        joined,
        env,
        state.runs[roleKey(project, role)],
        state.lastRuns[roleKey(project, role)],
        held.get(roleKey(project, role)),
      ),
    );
  return {
    root,
    ...(store && { store: store.where }),
    daemon: {
      running: view.running,
      ...(view.holder && view.running && { pid: view.holder.pid, startedAt: view.holder.startedAt }),
      log: spawnerPaths(root).log,
    },
    ...(error && { configError: error.message }),
    settings: {
      enabled: settings.enabled,
      defaultMode: settings.defaultMode,
      driver: settings.driver,
      maxHops: settings.maxHops,
      rateLimitPerMinute: settings.rateLimitPerMinute,
      cooldownSeconds: settings.cooldownSeconds,
      defaultOffRoles: settings.defaultOffRoles,
      denyTools: settings.denyTools,
      nudgePrompt: settings.nudgePrompt,
    },
    roles,
  };
}

function roleStatus(
  root: string,
  settings: Settings,
  project: string,
  role: string,
  joined: boolean,
  env: NodeJS.ProcessEnv,
  run?: ActiveRun,
  lastRun?: LastRun,
  held?: { unread: number; wake: WakeState },
): RoleStatus {
  const paths = rolePaths(root, project, role);
  const eff = effectiveRole(settings, project, role);
  const wake = held ? held.wake : readWakeState(paths);
  const status: RoleStatus = {
    project,
    role,
    joined,
    auto: eff.auto,
    mode: eff.mode,
    driver: eff.driver,
    target: describeTarget(paths, eff, env),
    unread: held ? held.unread : joined ? peekUnread(paths).entries.length : 0,
    ...(wake.lastWake && { lastWake: wake.lastWake }),
    ...(wake.lastRefusal && { lastRefusal: wake.lastRefusal }),
    ...(wake.inFlightSince !== undefined && { inFlightSince: isoTime(wake.inFlightSince) }),
    ...(run && { run }),
    ...(lastRun && { lastRun: lastRun.outcome.startsWith("exit 0 ") ? lastRun : { ...lastRun, tail: runLogTail(lastRun.log) } }),
  };
  if (!eff.auto) status.notWoken = eff.why;
  else if (wake.lastRefusal && (!wake.lastWake || wake.lastRefusal.at >= wake.lastWake.at)) {
    const retry = wake.lastRefusal.retryAt ? ` (retry at ${wake.lastRefusal.retryAt})` : "";
    status.notWoken = `${wake.lastRefusal.code} at ${wake.lastRefusal.at} (${wake.lastRefusal.driver}): ${wake.lastRefusal.reason}${retry}`;
  }
  return status;
}

function describeTarget(paths: ReturnType<typeof rolePaths>, eff: EffectiveRole, env: NodeJS.ProcessEnv): string {
  if (eff.driver === "spawn") {
    if (eff.cwd === undefined) return `no cwd: session-bridge spawner set ${eff.project} ${eff.role} cwd=PATH`;
    const target = resolveSpawnTarget(paths, eff, env, true);
    return target.ok ? describeSpawnTarget(target.spawn) : `cannot spawn: ${target.reason}`;
  }
  if (eff.driver === "socket") {
    const found = socketCandidate(paths, eff);
    const then = eff.fallback === "none" ? "" : `; fallback ${eff.fallback}`;
    return found.ok ? `messaging socket ${found.socket} (claude pid ${found.session.pid})${then}` : `${found.reason}${then}`;
  }
  const live = listSessions(paths).filter((s) => s.live);
  const pane = live.find((s) => s.tmux);
  if (eff.tmuxTarget !== undefined)
    return `tmux target ${eff.tmuxTarget}${pane?.tmux ? ` (socket ${pane.tmux.socket})` : " (default server)"}`;
  if (pane) return describeWhere(pane);
  return live.length > 0 ? `live session not in tmux (${live.map(describeWhere).join("; ")})` : "no live session";
}

export function renderStatus(status: SpawnerStatus): string {
  const lines: string[] = [];
  const d = status.daemon;
  lines.push(
    d.running
      ? `daemon: running (pid ${d.pid}, since ${d.startedAt}); log ${d.log}`
      : "daemon: not running (start it with `session-bridge spawner run`)",
  );
  if (status.store) lines.push(`store: ${status.store} (roles, unread mail and wake records read from it)`);
  const s = status.settings;
  lines.push(
    `automation: ${s.enabled ? "on" : "off"}; default mode ${s.defaultMode}; driver ${s.driver}; maxHops ${s.maxHops}; rateLimitPerMinute ${s.rateLimitPerMinute}; cooldownSeconds ${s.cooldownSeconds}; default-off roles: ${s.defaultOffRoles.join(", ") || "none"}`,
  );
  if (status.configError) lines.push(`config error: ${status.configError}`);
  if (status.roles.length === 0) lines.push("no roles yet: a role appears when a session connects or a message is queued for it");
  for (const r of status.roles) {
    lines.push("");
    lines.push(
      `${r.project}/${r.role}: ${r.auto ? "auto" : r.mode} via ${r.driver} → ${r.target}${r.joined ? "" : " (configured, not joined yet)"}`,
    );
    if (r.lastWake)
      lines.push(
        `  last wake: ${r.lastWake.at} via ${r.lastWake.driver} (chain ${r.lastWake.chain} hop ${r.lastWake.hop})${r.lastWake.detail ? `: ${r.lastWake.detail}` : ""}`,
      );
    if (r.run)
      lines.push(
        `  run in flight: pid ${r.run.pid} since ${r.run.startedAt}${r.run.resumed ? `, resuming ${r.run.resumed}` : ""}, output in ${r.run.log}`,
      );
    else if (r.lastRun) {
      const tail = r.lastRun.tail ?? [];
      const resumed = r.lastRun.resumed ? ` (resumed ${r.lastRun.resumed})` : "";
      lines.push(`  last run: ${r.lastRun.outcome}${resumed}, output in ${r.lastRun.log}${tail.length > 0 ? "; its last lines:" : ""}`);
      for (const line of tail) lines.push(`    | ${line}`);
    }
    if (r.notWoken) lines.push(`  not woken: ${r.notWoken}`);
    if (r.unread > 0) lines.push(`  unread: ${r.unread}`);
  }
  return lines.join("\n") + "\n";
}
