// `session-bridge spawner …`: the opt-in wake daemon and its settings. on/off/set/config are thin
// faces over src/settings/ops.ts (the one write path every face shares); status reads the files;
// run is the daemon itself (src/spawner/daemon.ts), in the foreground.
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs, positionals } from "./lib/args.ts";
import { closest } from "./lib/text.ts";
import type { FlagSpec, ParsedArgs } from "./lib/args.ts";
import { loadSettingsLenient } from "./settings/file.ts";
import type { SettingsUpdate } from "./settings/file.ts";
import { createDaemon } from "./spawner/daemon.ts";
import { BridgeError, describeError, errorJson, exitCodeFor, exitQuietlyOnClosedStdout } from "./lib/errors.ts";
import { resolveRoot } from "./bus/layout.ts";
import {
  assertKnownTarget,
  assertMayChangeSettings,
  configureRole,
  describeUpdate,
  parseAssignment,
  turnOff,
  turnOn,
  updateGlobal,
} from "./settings/ops.ts";
import { effectiveRole, GLOBAL_KEYS, settingAt } from "./settings/schema.ts";
import type { Settings } from "./settings/schema.ts";
import { createLogger, readDaemonHolder } from "./spawner/state.ts";
import { collectStatus, renderStatus } from "./spawner/status.ts";
import { parseRedisUrl, storeUrlOf } from "./store/url.ts";
import { openRedisSource, readRedisWakeStates } from "./spawner/redis-source.ts";
import type { StoreView } from "./spawner/status.ts";
import type { RedisUrl } from "./store/url.ts";
import type { WakeSource } from "./spawner/source.ts";
import type { Logger } from "./spawner/state.ts";
import { validateName } from "./bus/names.ts";

interface Io {
  env: NodeJS.ProcessEnv;
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

interface Sub {
  usage: string;
  flags: FlagSpec;
  run(args: ParsedArgs, io: Io): Promise<number> | number;
}

export const SPAWNER_USAGE = `usage: session-bridge spawner <command>
  on [PROJECT] [ROLE]       opt in to automatic wakes: every role, a project, or one role
                            (infra and qa, the default-off roles, only when named)
  off [PROJECT] [ROLE]      no automatic wakes at all; or that project or role back to manual
  set PROJECT ROLE KEY=VALUE...   per role: cwd=PATH model=M tmuxTarget=T permissionMode=P driver=tmux|spawn|socket fallback=none|tmux|spawn
                            (on, off and set refuse a project or role nobody has joined and the
                            settings do not name: --force configures one that will join later)
  config [KEY=VALUE ...]    show or change global settings: driver, maxHops, rateLimitPerMinute,
                            cooldownSeconds, denyTools, defaultOffRoles, nudgePrompt, spawn.timeoutSeconds…
                            (KEY= resets one to its default; lists are comma-separated)
  status [--json]           the daemon, and per role: mode, driver, target, last wake, why not woken
  run [--replay] [--project P[,Q]]   the daemon, in the foreground (stop it with Ctrl-C or SIGTERM);
                            --replay also wakes for mail that arrived while it was down;
                            on Redis (BRIDGE_URL) it serves the projects named in the settings,
                            by --project and by BRIDGE_PROJECT, waking this machine's roles
Nothing is woken until \`spawner on\` and while no daemon runs.`;

function assertMayChange(io: Io): void {
  assertMayChangeSettings(
    io.env,
    "the spawner settings are the rails of every session, so a Claude Code session may not change them",
    "run the command from your own shell",
  );
}

/** A typo in a name must not be saved as a project or role that never joins (settings/ops.ts). */
function assertKnown(root: string, args: ParsedArgs, project: string, role: string | undefined): void {
  const { settings } = loadSettingsLenient(root);
  assertKnownTarget(root, settings, project, role, args.flags.force === true);
}

function daemonNote(root: string): string {
  const view = readDaemonHolder(root);
  return view.running && view.holder
    ? `the running daemon (pid ${view.holder.pid}) applies this at its next event`
    : "no daemon is running, so nothing is woken yet: start one with `session-bridge spawner run`";
}

function report(io: Io, root: string, update: SettingsUpdate, notes: string[]): number {
  if (io.json) {
    io.out(JSON.stringify({ changes: update.changes, notes, daemon: readDaemonHolder(root) }) + "\n");
    return 0;
  }
  io.out(describeUpdate(update) + "\n");
  for (const note of [...notes, daemonNote(root)]) io.out(`note: ${note}\n`);
  return 0;
}

function onNotes(settings: Settings, project?: string, role?: string): string[] {
  if (project !== undefined && role !== undefined) {
    const eff = effectiveRole(settings, project, role);
    const fix =
      eff.driver === "spawn" && eff.cwd === undefined
        ? `; the spawn driver needs a cwd: session-bridge spawner set ${project} ${role} cwd=PATH`
        : "";
    return [`${project}/${role}: ${eff.auto ? "automatic" : "manual"} via ${eff.driver} (${eff.why})${fix}`];
  }
  const offRoles = settings.defaultOffRoles;
  return offRoles.length > 0
    ? [
        `default-off roles (${offRoles.join(", ")}) stay manual unless named: session-bridge spawner on ${project ?? "PROJECT"} ${offRoles[0]}`,
      ]
    : [];
}

const SUBS: Record<string, Sub> = {
  on: {
    usage: "usage: session-bridge spawner on [PROJECT] [ROLE] [--force] [--json]",
    flags: { json: "boolean", force: "boolean" },
    run(args, io) {
      const [project, role] = positionals(args, ["[PROJECT]", "[ROLE]"], SUBS.on!.usage);
      assertMayChange(io);
      const root = resolveRoot(io.env);
      if (project !== undefined) assertKnown(root, args, project, role);
      const update = turnOn(root, project, role);
      return report(io, root, update, onNotes(update.settings, project, role));
    },
  },
  off: {
    usage: "usage: session-bridge spawner off [PROJECT] [ROLE] [--force] [--json]",
    flags: { json: "boolean", force: "boolean" },
    run(args, io) {
      const [project, role] = positionals(args, ["[PROJECT]", "[ROLE]"], SUBS.off!.usage);
      assertMayChange(io);
      const root = resolveRoot(io.env);
      if (project !== undefined) assertKnown(root, args, project, role);
      const scope =
        project === undefined
          ? "nothing is woken automatically (enabled: false)"
          : `${project}${role ? `/${role}` : ""} is manual: its mail waits for its next prompt`;
      return report(io, root, turnOff(root, project, role), [scope]);
    },
  },
  set: {
    usage:
      "usage: session-bridge spawner set PROJECT ROLE KEY=VALUE... [--force] [--json]\n  keys: cwd=PATH model=M tmuxTarget=T permissionMode=P driver=tmux|spawn|socket fallback=none|tmux|spawn mode=auto|manual agent=claude|codex|gemini resume=true|false (KEY= unsets)\n  --force: configure a role that has not joined yet",
    flags: { json: "boolean", force: "boolean" },
    run(args, io) {
      const [project, role, ...assignments] = positionals(args, ["PROJECT", "ROLE", "KEY=VALUE..."], SUBS.set!.usage);
      assertMayChange(io);
      const root = resolveRoot(io.env);
      const patch: Record<string, unknown> = {};
      const notes: string[] = [];
      for (const text of assignments) {
        const [key, value] = parseAssignment(text);
        // A relative cwd means the folder the user is in, not wherever the daemon was started.
        if (key === "cwd" && typeof value === "string") {
          patch.cwd = resolve(value);
          if (!isDirectory(patch.cwd as string))
            notes.push(`${patch.cwd} is not a folder yet; the spawn driver refuses to run until it is`);
        } else patch[key] = value;
      }
      assertKnown(root, args, project!, role);
      return report(io, root, configureRole(root, project!, role!, patch), notes);
    },
  },
  config: {
    usage: `usage: session-bridge spawner config [KEY=VALUE ...] [--json]\n  keys: ${GLOBAL_KEYS.join(", ")}`,
    flags: { json: "boolean" },
    run(args, io) {
      const root = resolveRoot(io.env);
      if (args.positionals.length === 0) {
        const { settings, error } = loadSettingsLenient(root);
        if (io.json) io.out(JSON.stringify({ settings, ...(error && { configError: error.message }) }) + "\n");
        else {
          for (const key of GLOBAL_KEYS) io.out(`${key} = ${JSON.stringify(settingAt(settings, key))}\n`);
          if (error) io.err(`warning: ${error.message} (showing the defaults)`);
        }
        return 0;
      }
      assertMayChange(io);
      const patch: Record<string, unknown> = {};
      for (const text of args.positionals) {
        const [key, value] = parseAssignment(text);
        patch[key] = value;
      }
      return report(io, root, updateGlobal(root, patch), []);
    },
  },
  status: {
    usage:
      "usage: session-bridge spawner status [--json] [--project P[,Q…]]\n  --project: on Redis, projects to show besides those the settings name and BRIDGE_PROJECT",
    flags: { json: "boolean", project: "string" },
    async run(args, io) {
      positionals(args, [], SUBS.status!.usage);
      const root = resolveRoot(io.env);
      const status = collectStatus(root, io.env, await storeView(root, args, io));
      io.out(io.json ? JSON.stringify(status) + "\n" : renderStatus(status));
      return 0;
    },
  },
  run: {
    usage:
      "usage: session-bridge spawner run [--replay] [--project P[,Q…]]\n  the wake daemon, in the foreground; logs to stderr and <root>/spawner/log.jsonl\n  --project: on Redis, projects to serve besides those the settings name and BRIDGE_PROJECT",
    flags: { replay: "boolean", project: "string" },
    async run(args, io) {
      positionals(args, [], SUBS.run!.usage);
      const root = resolveRoot(io.env);
      const log = createLogger(root, { stderr: (line) => io.err(line) });
      const rescan = Number(io.env.BRIDGE_SPAWNER_RESCAN_MS);
      const replay = args.flags.replay === true;
      const source = await redisSource(root, args, io, replay, log);
      const daemon = createDaemon({
        root,
        env: io.env,
        replay,
        log,
        now: Date.now,
        ...(Number.isInteger(rescan) && rescan > 0 && { rescanMs: rescan }),
        ...(source && { source }),
      });
      // Never die on an unexpected error in a callback: log it and keep watching.
      const survive = (err: unknown): void => log({ event: "error", msg: `internal error, still running: ${describeError(err)}` });
      process.on("uncaughtException", survive);
      process.on("unhandledRejection", survive);
      // Listen before starting: a SIGTERM that arrives while start() is still scanning must stop
      // the daemon cleanly, not kill it with Node's default action.
      const stopRequested = new Promise<void>((done) => {
        process.once("SIGINT", () => done());
        process.once("SIGTERM", () => done());
      });
      try {
        daemon.start();
      } catch (err) {
        // Its connections would keep the process alive (E_LOCKED: another daemon holds the root).
        await source?.close();
        throw err;
      }
      await stopRequested;
      await daemon.stop();
      return 0;
    },
  },
};

/**
 * On Redis, the daemon's source: the projects it serves are those this machine's settings name,
 * --project and BRIDGE_PROJECT (a store has no list of projects an ACL user confined to one may read).
 */
async function redisSource(root: string, args: ParsedArgs, io: Io, replay: boolean, log: Logger): Promise<WakeSource | undefined> {
  const served = servedProjects(root, args, io);
  return served && openRedisSource({ root, env: io.env, url: served.url, projects: served.projects, replay, log });
}

/** On Redis, `spawner status` reads the roles and the wake records from the store. */
async function storeView(root: string, args: ParsedArgs, io: Io): Promise<StoreView | undefined> {
  const served = servedProjects(root, args, io);
  if (!served) return undefined;
  return { where: served.url.shown, roles: await readRedisWakeStates(served.url, io.env, served.projects) };
}

function servedProjects(root: string, args: ParsedArgs, io: Io): { url: RedisUrl; projects: string[] } | undefined {
  const raw = storeUrlOf(io.env);
  if (raw === undefined) {
    if (typeof args.flags.project === "string")
      throw new BridgeError(
        "E_USAGE",
        "--project is for the Redis store (BRIDGE_URL set); on the file store the daemon serves every project under the root",
      );
    return undefined;
  }
  const url = parseRedisUrl(raw);
  const named = [
    ...Object.keys(loadSettingsLenient(root).settings.projects),
    ...(typeof args.flags.project === "string" ? args.flags.project.split(",") : []),
    ...(io.env.BRIDGE_PROJECT ? [io.env.BRIDGE_PROJECT] : []),
  ]
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const projects = [...new Set(named.map((p) => validateName("project", p)))].sort();
  if (projects.length === 0)
    throw new BridgeError(
      "E_USAGE",
      `no project to serve on ${url.shown}: name them with --project P[,Q], BRIDGE_PROJECT, or in the settings (session-bridge spawner on P)`,
    );
  return { url, projects };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    // Missing or unreadable: not usable as a cwd, which the caller reports.
    return false;
  }
}

export async function runSpawner(argv: string[]): Promise<number> {
  exitQuietlyOnClosedStdout();
  const [, name, ...rest] = argv;
  const json = rest.includes("--json");
  const io: Io = {
    env: process.env,
    json,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text + "\n"),
  };
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    (name === undefined ? process.stderr : process.stdout).write(SPAWNER_USAGE + "\n");
    return name === undefined ? 2 : 0;
  }
  const sub = Object.hasOwn(SUBS, name) ? SUBS[name] : undefined;
  try {
    if (!sub) {
      const near = closest(name, Object.keys(SUBS));
      const hint = near ? ` — did you mean ${near}?` : `; the commands: ${Object.keys(SUBS).join(", ")}`;
      throw new BridgeError(
        "E_USAGE",
        `unknown spawner command ${JSON.stringify(name)}${hint} (session-bridge spawner --help says what each does)`,
      );
    }
    const args = parseArgs(rest, sub.flags, sub.usage);
    if (args.flags.help) {
      process.stdout.write(sub.usage + "\n");
      return 0;
    }
    return await sub.run(args, io);
  } catch (err) {
    if (json) process.stderr.write(JSON.stringify(errorJson(err)) + "\n");
    else process.stderr.write(`session-bridge spawner${name ? ` ${name}` : ""}: ${describeError(err)}\n`);
    return exitCodeFor(err);
  }
}
