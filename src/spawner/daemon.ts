// The wake daemon (`spawner run`): watches every inbox, and when a role has a new batch asks the
// rails (the one shared copy, src/wake/rails.ts, decided and recorded under the role's wake lock by
// src/wake/state.ts) whether to wake it, then hands it to the role's driver. It never consumes
// mail and never dies on bad data: every failure is logged and the next event tries again. The
// mail and the bookkeeping come from a source (./source.ts): the bus folder, or a Redis store.
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { EmptySettingsError, LEGACY_SETTINGS_FILE, loadSettings, SETTINGS_FILE } from "../settings/file.ts";
import { BridgeError, describeError } from "../lib/errors.ts";
import { ensureDir } from "../lib/fs.ts";
import { ensureRoot, projectsDir } from "../bus/layout.ts";
import { decideWake } from "../wake/rails.ts";
import type { WakeDecision, WakeHistory } from "../wake/rails.ts";
import { effectiveRole, mergeSettings } from "../settings/schema.ts";
import type { EffectiveRole, Settings } from "../settings/schema.ts";
import { acquireDaemonLock, loadDaemonState, roleKey, saveDaemonState } from "./state.ts";
import type { DaemonLock, DaemonState, Logger } from "./state.ts";
import { createDrivers } from "./drivers/index.ts";
import type { DriverDeps, Drivers, TargetResult, WakeSite } from "./drivers/index.ts";
import { fileSource } from "./source.ts";
import type { SourceBatch, WakeSource } from "./source.ts";
import { isoTime } from "../lib/time.ts";

export interface DaemonOptions extends DriverDeps {
  root: string;
  /** Resume from the saved positions (wake for what arrived while down) instead of the inbox ends. */
  replay: boolean;
  log: Logger;
  /** Safety-net rescan for missed watch events and for retrying deferred wakes. */
  rescanMs?: number;
  /** Where mail and wake bookkeeping live; the bus folder under `root` when unset. */
  source?: WakeSource;
}

export interface Daemon {
  start(): void;
  stop(): Promise<void>;
}

interface RoleRuntime {
  key: string;
  project: string;
  role: string;
  active: boolean;
  again: boolean;
  /** A batch is waiting on a deferral (cooldown, rate, busy, no target): the rescan retries it. */
  pending: boolean;
  timer?: NodeJS.Timeout;
  timerAt?: number;
  lastLogged?: string;
}

const FINAL = new Set(["off", "manual", "hops"]);
export const DEFAULT_RESCAN_MS = 2000;

export function createDaemon(options: DaemonOptions): Daemon {
  const { root, log } = options;
  const now = options.now;
  const roles = new Map<string, RoleRuntime>();
  const inFlight = new Set<Promise<void>>();
  let settings: Settings = mergeSettings({});
  let configError: string | undefined;
  let state: DaemonState = { positions: {}, runs: {}, lastRuns: {} };
  let lock: DaemonLock | undefined;
  const source = options.source ?? fileSource(root, log);
  let configWatch: FSWatcher | undefined;
  let rescanTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  let drivers: Drivers;

  const save = (): void => {
    try {
      saveDaemonState(root, state);
    } catch (err) {
      log({ event: "error", msg: `cannot save the daemon state: ${describeError(err)}` });
    }
  };

  /** Re-read on every event; a bad edit keeps the last good settings, reported once per distinct error. */
  let emptySeen = false;
  const loadConfig = (): void => {
    try {
      settings = loadSettings(root);
      emptySeen = false;
      if (configError !== undefined) log({ event: "config-ok", msg: "the settings file is valid again; using it" });
      configError = undefined;
    } catch (err) {
      const message = describeError(err);
      if (!(err instanceof BridgeError) || err.code !== "E_CONFIG") throw err;
      // An editor truncates before it writes: an empty file is reported only if it is still empty
      // at the next look; meanwhile the last good settings apply, as for any bad file.
      const transient = err instanceof EmptySettingsError && !emptySeen;
      emptySeen = err instanceof EmptySettingsError;
      if (transient) return;
      if (message !== configError) log({ event: "config-error", msg: `${message}; keeping the last good settings` });
      configError = message;
    }
  };

  const runtime = (project: string, role: string): RoleRuntime => {
    const key = roleKey(project, role);
    let r = roles.get(key);
    if (!r) roles.set(key, (r = { key, project, role, active: false, again: false, pending: false }));
    return r;
  };

  const consider = (r: RoleRuntime): void => {
    if (stopping) return;
    if (r.active) {
      r.again = true;
      return;
    }
    r.active = true;
    const work = (async () => {
      try {
        do {
          r.again = false;
          // Leave the watcher's callback first: libuv reads inotify events until none are left, so
          // work done inside it under a steady stream of mail kept the daemon from hearing child exits
          // and timers (at 1,000 msg/s, spawned runs that had ended stayed "busy" for a minute).
          await new Promise<void>((resolve) => setImmediate(resolve));
          await handle(r);
        } while (r.again && !stopping);
      } catch (err) {
        // Logged once per distinct error: the rescan retries a failing role every few seconds.
        const msg = `while handling new mail: ${describeError(err)}`;
        if (r.lastLogged !== msg) log({ event: "error", project: r.project, role: r.role, msg });
        r.lastLogged = msg;
      } finally {
        r.active = false;
      }
    })();
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  const schedule = (r: RoleRuntime, at: number): void => {
    if (r.timer !== undefined && r.timerAt !== undefined && r.timerAt <= at) return;
    clearTimeout(r.timer);
    r.timerAt = at;
    // setTimeout overflows past 2^31 ms; an early timer only re-asks the rails, which defer again.
    const delay = Math.min(Math.max(0, at - now()) + 5, 2 ** 31 - 1);
    r.timer = setTimeout(() => {
      r.timer = undefined;
      r.timerAt = undefined;
      consider(r);
    }, delay);
  };

  const handle = async (r: RoleRuntime): Promise<void> => {
    loadConfig();
    let batch = await source.batch(r, true);
    if (batch.skipped > 0)
      log({ event: "bad-data", project: r.project, role: r.role, msg: `${batch.skipped} unreadable line(s) in the inbox passed over` });
    if (batch.messages.length === 0) {
      r.pending = false;
      source.settle(r, batch);
      return;
    }
    const role = effectiveRole(settings, r.project, r.role);
    const site = await source.site(r, role);
    if (!site) return elsewhere(r, batch, role);
    const driver = drivers[role.driver];
    // The daemon's own run in flight is "busy" even if wake.json was lost or edited.
    const own = drivers.running(r.key);
    const history = (h: WakeHistory): WakeHistory => (own !== undefined ? { ...h, inFlightSince: h.inFlightSince ?? own } : h);
    const base = { settings, project: r.project, role: r.role };
    const dry = decideWake({
      ...base,
      batch: batch.messages,
      history: history(await source.history(r, batch)),
      now: now(),
      target: { ok: true },
    });
    let target: TargetResult = { ok: true };
    if (dry.wake) {
      target = await driver.resolve(site, role);
      // Right before waking: mail the session took meanwhile is no reason to wake it.
      batch = await source.batch(r);
      if (batch.messages.length === 0) {
        r.pending = false;
        source.settle(r, batch);
        return;
      }
    }
    const claimed = await source.claim(
      r,
      {
        driver: role.driver,
        ...base,
        clock: now,
        target: target.ok ? { ok: true } : { ok: false, reason: target.reason },
        inFlight: driver.tracksRuns,
        history,
      },
      batch,
      (d) => !d.wake && FINAL.has(d.code),
    );
    const decision = claimed.decision;
    batch = claimed.batch;
    if (!decision.wake && decision.code === "nothing-new") {
      r.pending = false;
      source.settle(r, batch);
      return;
    }
    if (!decision.wake) return refused(r, batch, decision, own !== undefined);
    r.pending = false;
    r.lastLogged = undefined;
    source.settle(r, batch);
    log({
      event: "wake",
      project: r.project,
      role: r.role,
      driver: role.driver,
      chain: decision.chain,
      hop: decision.hop,
      ids: decision.ids,
      msg: `waking via ${role.driver} for ${decision.ids.length} message(s) (chain ${decision.chain} hop ${decision.hop})`,
    });
    await wake(r, site, role, decision, target);
  };

  /** Another machine's role (Redis): its own daemon decides, so nothing is recorded; said once per batch. */
  const elsewhere = (r: RoleRuntime, batch: SourceBatch, role: EffectiveRole): void => {
    r.pending = false;
    const mark = `elsewhere@${batch.mark}`;
    if (r.lastLogged === mark) return;
    r.lastLogged = mark;
    const what =
      role.driver === "spawn"
        ? `no cwd of it is a folder on this machine (driver spawn)`
        : `no live session of it runs on this machine (driver ${role.driver})`;
    log({
      event: "elsewhere",
      project: r.project,
      role: r.role,
      msg: `${batch.messages.length} message(s) left to another machine's daemon: ${what}`,
    });
  };

  const wake = async (
    r: RoleRuntime,
    site: WakeSite,
    role: EffectiveRole,
    decision: Extract<WakeDecision, { wake: true }>,
    target: TargetResult,
  ): Promise<void> => {
    try {
      await drivers[role.driver].wake({ key: r.key, site, role, settings, decision, target, onEnd: () => consider(r) });
    } catch (err) {
      const detail = `the ${role.driver} driver failed: ${describeError(err)}`;
      log({ event: "error", project: r.project, role: r.role, msg: detail });
      await site.finish(detail);
    }
  };

  const refused = (r: RoleRuntime, batch: SourceBatch, decision: Extract<WakeDecision, { wake: false }>, ownRun: boolean): void => {
    const final = FINAL.has(decision.code);
    if (final) source.settle(r, batch);
    r.pending = !final;
    if (decision.retryAt !== undefined && !(decision.code === "busy" && ownRun)) schedule(r, decision.retryAt);
    // One log line per refusal per batch (the rescan retries deferred batches every few seconds);
    // a new reason is logged again, except the ever-changing counts of cooldown and rate.
    const timed = decision.code === "cooldown" || decision.code === "rate";
    const mark = `${decision.code}@${batch.mark}${timed ? "" : `:${decision.reason}`}`;
    if (r.lastLogged === mark) return;
    r.lastLogged = mark;
    const retry = decision.retryAt !== undefined && !ownRun ? `; retrying at ${isoTime(decision.retryAt)}` : "";
    // A busy refusal already says the follow-up comes when the run ends.
    const then = final || (decision.code === "busy" && ownRun) ? "" : retry || "; retrying on the next rescan";
    log({
      event: final ? "refused" : "deferred",
      project: r.project,
      role: r.role,
      code: decision.code,
      ...(decision.retryAt !== undefined && { retryAt: isoTime(decision.retryAt) }),
      msg: `${decision.code}: ${decision.reason}${then}`,
    });
  };

  const armWatchers = (): void => {
    source.arm({ role: (project, role) => consider(runtime(project, role)), rescan: () => rescan(true), log });
    if (configWatch) return;
    try {
      // Settings edits take effect at once for deferred batches (e.g. `spawner on`, a higher rate limit).
      configWatch = watch(root, (_event, filename) => {
        if (filename && [SETTINGS_FILE, LEGACY_SETTINGS_FILE].some((name) => String(filename).startsWith(name))) rescan(true);
      });
      configWatch.on("error", (err) => {
        configWatch?.close();
        configWatch = undefined;
        log({ event: "watch-error", msg: `watching the settings file failed (${err.message}); the rescan re-arms it` });
      });
    } catch (err) {
      log({
        event: "watch-error",
        msg: `cannot watch ${root} for settings edits (${describeError(err)}); they apply at the next event or rescan`,
      });
    }
  };

  // One rescan at a time (a Redis scan takes round trips); a forced one asked meanwhile runs next.
  let scanning: Promise<void> | undefined;
  let forceNext = false;
  const rescan = (force = false): void => {
    if (stopping) return;
    if (scanning) {
      forceNext ||= force;
      return;
    }
    const run = async (): Promise<void> => {
      try {
        armWatchers();
        drivers.reapOrphans();
        for (const { project, role, changed } of await source.scan()) {
          const r = runtime(project, role);
          if (force || r.pending || changed) consider(r);
        }
      } catch (err) {
        log({ event: "error", msg: `rescan failed: ${describeError(err)}` });
      }
    };
    scanning = run().finally(() => {
      scanning = undefined;
      if (forceNext) {
        forceNext = false;
        rescan(true);
      }
    });
  };

  return {
    start() {
      ensureRoot(root);
      ensureDir(projectsDir(root));
      lock = acquireDaemonLock(root);
      if (lock.tookOver) {
        const who =
          lock.tookOver === "unreadable"
            ? "an unreadable lock file"
            : `pid ${lock.tookOver.pid} (started ${lock.tookOver.startedAt}), which is gone`;
        log({ event: "takeover", msg: `took over the daemon lock from ${who}` });
      }
      loadConfig();
      state = loadDaemonState(root);
      drivers = createDrivers({
        ...options,
        state,
        save,
        log,
        ...(source.siteOf && { siteOf: source.siteOf.bind(source) }),
      });
      const skipped = source.begin({ state, save, replay: options.replay });
      save();
      const mode = settings.enabled
        ? `automation on (defaultMode ${settings.defaultMode})`
        : "automation off: nothing is woken until `session-bridge spawner on`";
      log({
        event: "start",
        pid: process.pid,
        msg: `daemon started for ${source.where}: ${mode}${options.replay ? "; replaying what arrived while it was down" : skipped > 0 ? `; ${skipped} message(s) that arrived while it was down are not woken for (start with --replay to wake for them)` : ""}`,
      });
      armWatchers();
      rescanTimer = setInterval(() => rescan(), options.rescanMs ?? DEFAULT_RESCAN_MS);
      rescan(true);
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(rescanTimer);
      configWatch?.close();
      for (const r of roles.values()) clearTimeout(r.timer);
      await scanning;
      await Promise.allSettled([...inFlight]);
      await drivers?.stopAll();
      await source.close();
      save();
      lock?.release();
      log({ event: "stop", msg: "daemon stopped" });
    },
  };
}
