// The daemon's drivers behind one shape: `resolve` says whether there is somewhere to deliver
// the wake (fed to the rails as their target check), `wake` delivers it. The spawn driver also
// owns the runs it started: single flight per role, a follow-up when a run ends, and a clean stop.
import { ensureDir } from "../../lib/fs.ts";
import type { RolePaths } from "../../bus/layout.ts";
import { rolePaths } from "../../bus/layout.ts";
import { isSameProcessAlive, processStartTime } from "../../lib/proc.ts";
import type { WakeDecision } from "../../wake/rails.ts";
import type { EffectiveRole, Settings } from "../../settings/schema.ts";
import { describeOutcome, planSpawn, startRun } from "./spawn.ts";
import { describeSpawnTarget, resolveSpawnTarget } from "./spawn-target.ts";
import { runLabel } from "../../agents/cli.ts";
import type { SpawnTarget } from "./spawn-target.ts";
import { selfCommand } from "../../runtime/self.ts";
import type { RunHandle, RunOptions } from "./spawn.ts";
import { nudgeTmux, resolveTmuxTarget } from "./tmux.ts";
import { nudgeSocket, resolveSocketTarget } from "./socket.ts";
import type { SocketDeps, SocketTarget } from "./socket.ts";
import type { TmuxDeps, TmuxTarget } from "./tmux.ts";
import type { SessionView } from "../../bus/sessions.ts";
import { pruneRunLogs, runLogPath, spawnerPaths } from "../state.ts";
import type { DaemonState, Logger } from "../state.ts";
import { execTmux } from "../tmux.ts";
import { allTaken } from "../../wake/batch.ts";
import { finishWake } from "../../wake/state.ts";
import { isoTime } from "../../lib/time.ts";

export interface DriverDeps {
  root: string;
  env: NodeJS.ProcessEnv;
  now: () => number;
  tmux?: TmuxDeps;
  socket?: SocketDeps;
  spawnImpl?: RunOptions["spawnImpl"];
  /** How to run this binary (the spawned run's MCP server). */
  self?: string[];
  /** Between SIGTERM and SIGKILL for a run being stopped or timed out. */
  graceMs?: number;
}

export type TargetResult =
  | {
      ok: true;
      tmux?: TmuxTarget;
      spawn?: SpawnTarget;
      socket?: SocketTarget;
      /** The socket driver resolved its fallback's target instead, and why. */
      socketSkipped?: string;
    }
  | { ok: false; reason: string };

/**
 * Where a role's wake facts live, for the drivers: its folder on the file store, or the Redis store
 * (src/spawner/redis-source.ts). The pane or run a driver acts on is always of this machine.
 */
export interface WakeSite {
  paths: RolePaths;
  /** The role's sessions when the folder is not where they live (Redis: this machine's only); undefined: the folder's. */
  sessions?: SessionView[];
  /** True once none of `ids` is unread any more (the session, a run or a human took them). */
  taken(ids: readonly string[]): boolean | Promise<boolean>;
  /** Ends the in-flight mark of the role's wake, noting `detail` (the run's exit…) on the last wake. */
  finish(detail?: string): void | Promise<void>;
}

/** The file store's site: the role folder, as the drivers always read it. */
export function fileSite(paths: RolePaths): WakeSite {
  return { paths, taken: (ids) => allTaken(paths, ids), finish: (detail) => finishWake(paths, detail) };
}

export interface WakeOrder {
  key: string;
  site: WakeSite;
  role: EffectiveRole;
  settings: Settings;
  decision: Extract<WakeDecision, { wake: true }>;
  target: TargetResult;
  /** Called when a wake that runs on (a spawned run) has ended: the daemon looks at the role again. */
  onEnd(): void;
}

export interface Driver {
  /** Whether a wake stays in flight until the driver says it ended (single flight). */
  tracksRuns: boolean;
  resolve(site: WakeSite, role: EffectiveRole): Promise<TargetResult>;
  wake(request: WakeOrder): Promise<void>;
}

export interface Drivers {
  tmux: Driver;
  spawn: Driver;
  socket: Driver;
  /** Start time (ms) of the run this daemon has in flight for the role, if any. */
  running(key: string): number | undefined;
  /** Clears in-flight marks of runs left by a previous daemon once their process is gone. */
  reapOrphans(): void;
  /** Stops every run this daemon started: SIGTERM to its process group, SIGKILL after the grace. */
  stopAll(): Promise<void>;
}

export const DEFAULT_GRACE_MS = 5000;

const realTmux: TmuxDeps = { run: execTmux, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

export function createDrivers(
  deps: DriverDeps & { state: DaemonState; save(): void; log: Logger; siteOf?(project: string, role: string): WakeSite },
): Drivers {
  const { root, state, save, log } = deps;
  const siteOf = deps.siteOf ?? ((project: string, role: string) => fileSite(rolePaths(root, project, role)));
  const tmuxDeps = deps.tmux ?? realTmux;
  const runs = new Map<string, { handle: RunHandle; startedAt: number; finished: Promise<void> }>();
  const graceMs = deps.graceMs ?? DEFAULT_GRACE_MS;

  const tmux: Driver = {
    tracksRuns: false,
    async resolve(site, role) {
      const check = await resolveTmuxTarget(site.paths, role, tmuxDeps, site.sessions);
      return check.ok ? { ok: true, tmux: check.target } : check;
    },
    async wake({ site, role, settings, decision, target }) {
      if (!target.ok || !target.tmux) throw new Error("no tmux target was resolved");
      const outcome = await nudgeTmux(target.tmux, settings.nudgePrompt, { ...tmuxDeps, taken: () => site.taken(decision.ids) });
      await site.finish(outcome.detail);
      log({ event: outcome.ok ? "nudged" : "nudge-failed", project: role.project, role: role.role, msg: outcome.detail });
    },
  };

  const spawnDriver: Driver = {
    tracksRuns: true,
    async resolve(site, role) {
      return resolveSpawnTarget(site.paths, role, deps.env, false, site.sessions);
    },
    async wake({ key, site, role, settings, decision, target: resolved, onEnd }) {
      const target = resolved.ok ? resolved.spawn : undefined;
      const plan = planSpawn({
        ...(target && { target }),
        root,
        settings,
        role,
        chain: decision.chain,
        hop: decision.hop,
        self: deps.self ?? selfCommand(),
        env: deps.env,
      });
      ensureDir(spawnerPaths(root).runs);
      const log_ = runLogPath(root, role.project, role.role, Date.now());
      const startedAt = isoTime();
      const handle = startRun(plan, {
        log: log_,
        timeoutMs: settings.spawn.timeoutSeconds * 1000,
        graceMs,
        ...(deps.spawnImpl && { spawnImpl: deps.spawnImpl }),
      });
      if (handle.pid !== undefined) {
        const start = processStartTime(handle.pid);
        state.runs[key] = {
          pid: handle.pid,
          ...(start !== undefined && { start }),
          log: log_,
          startedAt,
          ...(plan.resumed && { resumed: plan.resumed }),
        };
        save();
      }
      log({
        event: "run-start",
        project: role.project,
        role: role.role,
        pid: handle.pid,
        log: log_,
        agent: target?.agent ?? "claude",
        ...(plan.resumed && { resumed: plan.resumed }),
        msg: `${target ? describeSpawnTarget(target) : `claude -p in ${plan.cwd}`} started (pid ${handle.pid ?? "?"}), output in ${log_}`,
      });
      const what = runLabel(target?.agent ?? "claude");
      const finished = handle.done
        .then(async (outcome) => {
          runs.delete(key);
          delete state.runs[key];
          const text = describeOutcome(outcome);
          state.lastRuns[key] = {
            log: log_,
            startedAt,
            endedAt: isoTime(),
            outcome: text,
            ...(plan.resumed && { resumed: plan.resumed }),
          };
          save();
          await site.finish(`${text}; output in ${log_}`);
          log({
            event: "run-end",
            project: role.project,
            role: role.role,
            code: outcome.code,
            timedOut: outcome.timedOut,
            log: log_,
            ...(plan.resumed && { resumed: plan.resumed }),
            msg: `${what} ${text}`,
          });
          pruneRunLogs(root);
          onEnd();
        })
        .catch((err: unknown) => {
          log({ event: "error", project: role.project, role: role.role, msg: `after the run: ${(err as Error).message}` });
        });
      runs.set(key, { handle, startedAt: deps.now(), finished });
    },
  };

  const socketDeps: SocketDeps = deps.socket ?? { sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };
  const fallbackOf = (role: EffectiveRole): Driver | undefined =>
    role.fallback === "tmux" ? tmux : role.fallback === "spawn" ? spawnDriver : undefined;

  // The socket driver's way out: the role's configured fallback gets the same claimed wake (the
  // rails were asked once, for the socket), with a target it resolves itself; "none" leaves the
  // mail for the role's next prompt. Either way the reason is kept for `spawner status`.
  const fallBack = async (order: WakeOrder, why: string, resolved?: TargetResult): Promise<void> => {
    const { site, role } = order;
    const next = fallbackOf(role);
    if (!next) {
      await site.finish(`${why}; no fallback driver (fallback none): the mail waits for the role's next prompt`);
      return;
    }
    const target = resolved ?? (await next.resolve(site, role));
    if (!target.ok) {
      const detail = `${why}; fallback ${role.fallback} cannot wake it either: ${target.reason}`;
      await site.finish(detail);
      log({ event: "nudge-failed", project: role.project, role: role.role, msg: detail });
      return;
    }
    log({
      event: "fallback",
      project: role.project,
      role: role.role,
      driver: role.fallback,
      msg: `${why}; falling back to the ${role.fallback} driver`,
    });
    await next.wake({ ...order, target });
  };

  const socketDriver: Driver = {
    tracksRuns: false,
    async resolve(site, role) {
      const check = resolveSocketTarget(site.paths, role, process.platform, site.sessions);
      if (check.ok) return { ok: true, socket: check.target };
      const next = fallbackOf(role);
      if (!next) return check;
      const other = await next.resolve(site, role);
      return other.ok
        ? { ...other, socketSkipped: check.reason }
        : { ok: false, reason: `${check.reason}; fallback ${role.fallback}: ${other.reason}` };
    },
    async wake(order) {
      const { site, role, settings, decision, target } = order;
      if (!target.ok) throw new Error("no socket target was resolved");
      if (!target.socket) return fallBack(order, `socket: ${target.socketSkipped ?? "no messaging socket"}`, target);
      const taken = () => site.taken(decision.ids);
      const outcome = await nudgeSocket(target.socket, settings.nudgePrompt, decision.ids.length, { ...socketDeps, taken });
      log({ event: outcome.ok ? "nudged" : "nudge-failed", project: role.project, role: role.role, msg: outcome.detail });
      if (outcome.ok) return site.finish(outcome.detail);
      // Read meanwhile (a human prompt, a late turn): delivered after all, nothing to fall back for.
      if (await taken()) return site.finish(`${outcome.detail}; the mail was read meanwhile`);
      return fallBack(order, outcome.detail);
    },
  };

  return {
    tmux,
    spawn: spawnDriver,
    socket: socketDriver,
    running: (key) => runs.get(key)?.startedAt,
    reapOrphans() {
      for (const [key, run] of Object.entries(state.runs)) {
        if (runs.has(key) || isSameProcessAlive(run.pid, run.start)) continue;
        const [project, role] = key.split("/") as [string, string];
        delete state.runs[key];
        const outcome = "ended while no daemon was watching it (outcome unknown)";
        state.lastRuns[key] = { log: run.log, startedAt: run.startedAt, endedAt: isoTime(), outcome };
        save();
        void Promise.resolve(siteOf(project, role).finish(`${outcome}; output in ${run.log}`)).catch((err: unknown) =>
          log({ event: "error", project, role, msg: `cannot end the wake of a run gone meanwhile: ${(err as Error).message}` }),
        );
        log({ event: "run-end", project, role, log: run.log, msg: `a run started by an earlier daemon (pid ${run.pid}) ${outcome}` });
      }
    },
    async stopAll() {
      const all = [...runs.values()];
      for (const run of all) void run.handle.stop(graceMs);
      await Promise.allSettled(all.map((run) => run.finished));
    },
  };
}
