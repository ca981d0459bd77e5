// `session-bridge dashboard`: a live view of the rooms in a browser, served on 127.0.0.1 only
// (src/dashboard/server.ts) with a random token per run. Read-only unless started with --admin,
// which a Claude Code session may not do for itself (the same rule as `spawner on`).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { parseArgs } from "../lib/args.ts";
import { startDashboardServer } from "./server.ts";
import { BridgeError, describeError, errorJson, exitCodeFor, exitQuietlyOnClosedStdout, isErrno } from "../lib/errors.ts";
import { resolveRoot } from "../bus/layout.ts";
import { assertMayChangeSettings } from "../settings/ops.ts";
import { findOnPath } from "../lib/proc.ts";
import { validateName } from "../bus/names.ts";
import { loadSettingsLenient } from "../settings/file.ts";
import { openStore } from "../store/store.ts";
import type { Store } from "../store/store.ts";
import { storeUrlOf } from "../store/url.ts";
import { createStoreSnapshotter } from "./store-data.ts";
import type { DashboardServerOptions } from "./server.ts";

export const DASHBOARD_USAGE = `usage: session-bridge dashboard [--port N] [--open] [--admin] [--json] [--project P[,Q…]]
  a live view of the rooms, their messages and the wake daemon, in your browser; serves
  http://127.0.0.1 only (never another interface) and prints the URL with a random token
  --port N   listen on port N (default 0: any free port)
  --open     also open the URL with xdg-open (open on macOS)
  --admin    buttons for the automation switch and each role's auto/manual mode
             (refused inside a Claude Code session unless BRIDGE_ADMIN=1)
  --json     print {"url","port","admin","root"} instead of the bare URL
  --project  with BRIDGE_URL (Redis): the projects to show (default: BRIDGE_PROJECT and the
             projects of this machine's settings); the file store shows every project
stop it with Ctrl-C`;

const FLAGS = { port: "string", open: "boolean", admin: "boolean", json: "boolean", project: "string" } as const;

export function parsePort(value: string | boolean | undefined): number {
  if (value === undefined) return 0;
  const text = String(value);
  const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 0 && n <= 65535)) {
    throw new BridgeError(
      "E_USAGE",
      `--port must be a whole number from 0 to 65535 (got ${JSON.stringify(text)}); leave it out for any free port\n${DASHBOARD_USAGE}`,
    );
  }
  return n;
}

/** The admin buttons change every session's rails: not for a Claude Code session to grant itself. */
export function assertMayAdmin(env: NodeJS.ProcessEnv): void {
  assertMayChangeSettings(
    env,
    "dashboard --admin can change the automation settings, the rails of every session, so a Claude Code session may not start it",
    "run it from your own shell, or leave out --admin for a read-only view",
  );
}

export async function runDashboard(argv: string[]): Promise<number> {
  exitQuietlyOnClosedStdout();
  const json = argv.includes("--json");
  const err = (line: string): void => {
    process.stderr.write(`session-bridge dashboard: ${line}\n`);
  };
  try {
    const args = parseArgs(argv.slice(1), FLAGS, DASHBOARD_USAGE);
    if (args.flags.help) {
      process.stdout.write(DASHBOARD_USAGE + "\n");
      return 0;
    }
    if (args.positionals.length > 0)
      throw new BridgeError(
        "E_USAGE",
        `dashboard takes no arguments (got ${JSON.stringify(args.positionals.join(" "))})\n${DASHBOARD_USAGE}`,
      );
    const port = parsePort(args.flags.port);
    const admin = args.flags.admin === true;
    if (admin) assertMayAdmin(process.env);
    const root = resolveRoot(process.env);
    const onRedis = await openRooms(root, args.flags.project as string | undefined);
    // Listening for the stop before saying where we are: a script may send SIGTERM the moment it reads the URL.
    const stopped = new Promise<void>((done) => {
      process.once("SIGINT", () => done());
      process.once("SIGTERM", () => done());
    });
    try {
      const source = onRedis && {
        snapshotter: createStoreSnapshotter(root, onRedis.store, onRedis.projects, { admin }),
        watch: (changed: () => void, pollMs: number) => onRedis.store.watch(onRedis.projects, changed, pollMs),
      };
      const server = await listen(root, admin, port, err, source);
      const store = onRedis && { store: onRedis.store.where, projects: onRedis.projects };
      process.stdout.write(json ? JSON.stringify({ url: server.url, port: server.port, admin, root, ...store }) + "\n" : server.url + "\n");
      const what = onRedis ? `project(s) ${onRedis.projects.join(", ")} at ${onRedis.store.where}` : root;
      err(
        `showing ${what} on 127.0.0.1 only, ${admin ? "with admin buttons" : "read-only (--admin for the settings buttons)"}; stop with Ctrl-C`,
      );
      if (args.flags.open === true) openInBrowser(server.url, process.env, err);
      await stopped;
      await server.close();
      return 0;
    } finally {
      await onRedis?.store.close();
    }
  } catch (error) {
    if (json) process.stderr.write(JSON.stringify(errorJson(error)) + "\n");
    else err(describeError(error));
    return exitCodeFor(error);
  }
}

/**
 * With BRIDGE_URL naming Redis: the store and the projects to show. The bus user may be confined
 * to one project's keys (README "Across machines"), so the projects are named, never listed from
 * the server: --project, else BRIDGE_PROJECT and the projects of this machine's settings. The
 * store must answer now: a dashboard that starts on an engine that is away would show nothing.
 */
async function openRooms(root: string, flag: string | undefined): Promise<{ store: Store; projects: string[] } | undefined> {
  if (storeUrlOf(process.env) === undefined) {
    if (flag !== undefined)
      throw new BridgeError(
        "E_USAGE",
        "--project is for the Redis store (BRIDGE_URL); on the file store the dashboard shows every project under the root",
      );
    return undefined;
  }
  const named =
    flag !== undefined
      ? flag.split(",").map((p) => p.trim())
      : [process.env.BRIDGE_PROJECT?.trim() ?? "", ...Object.keys(loadSettingsLenient(root).settings.projects)];
  const projects = [...new Set(named.filter((p) => p !== "").map((p) => validateName("project", p)))].sort();
  if (projects.length === 0)
    throw new BridgeError(
      "E_USAGE",
      "on Redis (BRIDGE_URL) the dashboard shows the projects you name, since the bus user may see only its own project's keys: pass --project P[,Q…] or set BRIDGE_PROJECT",
    );
  const store = await openStore(root, process.env);
  // One project the user may not read (a settings entry for another team's project) is named on
  // the page; a store that answers for none of them is an error now.
  const failures = await Promise.all(
    projects.map((p) =>
      store.roles(p).then(
        () => undefined,
        (error: unknown) => error,
      ),
    ),
  );
  if (failures.every((f) => f !== undefined)) {
    await store.close();
    throw failures[0];
  }
  return { store, projects };
}

async function listen(root: string, admin: boolean, port: number, warn: (line: string) => void, source?: DashboardServerOptions["source"]) {
  const knob = (name: string): number | undefined => {
    // Test knobs (like BRIDGE_SPAWNER_RESCAN_MS): a faster heartbeat and poll.
    const n = Number(process.env[name]);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };
  const heartbeatMs = knob("BRIDGE_DASHBOARD_HEARTBEAT_MS");
  const pollMs = knob("BRIDGE_DASHBOARD_POLL_MS");
  try {
    return await startDashboardServer({
      root,
      admin,
      port,
      token: randomBytes(24).toString("base64url"),
      warn,
      ...(heartbeatMs !== undefined && { heartbeatMs }),
      ...(pollMs !== undefined && { pollMs }),
      ...(source && { source }),
    });
  } catch (error) {
    if (isErrno(error, "EADDRINUSE")) {
      throw new BridgeError(
        "E_IO",
        `port ${port} on 127.0.0.1 is already in use (another dashboard, or another program); pick another with --port N, or leave out --port for any free port`,
      );
    }
    if (isErrno(error, "EACCES")) {
      throw new BridgeError(
        "E_IO",
        `port ${port} needs privileges this user does not have; use a port above 1023 (--port N), or leave out --port for any free port`,
      );
    }
    throw error;
  }
}

/** Best effort: the URL is printed either way, so a missing opener is a note, not a failure. */
function openInBrowser(url: string, env: NodeJS.ProcessEnv, err: (line: string) => void): void {
  const name = process.platform === "darwin" ? "open" : "xdg-open";
  const program = findOnPath(name, env);
  if (program === undefined) {
    err(`--open: no ${name} on PATH; open the URL above in your browser`);
    return;
  }
  const child = spawn(program, [url], { stdio: "ignore", detached: true });
  child.on("error", (e) => err(`--open: ${name} failed (${e.message}); open the URL above in your browser`));
  child.unref();
}
