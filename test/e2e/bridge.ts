// The bridge side of the end-to-end tests: wiring a sandbox with our own installer, running the
// CLI as a human would (from a shell: no CLAUDECODE, no BRIDGE_ADMIN), the wake daemon as a child
// that is always stopped, and reading the store's files the way a person would (`tail -f`, `cat`).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { BIN } from "../helpers/bin.ts";
import { CLAUDE_BIN, onCleanup, writeClaudeJson, type Sandbox } from "./claude.ts";
import { killTree, onProcessExit } from "./procs.ts";
import { readJsonLines } from "./stand-ins.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import type { Message } from "../../src/bus/message.ts";
import { listSessions, type SessionView } from "../../src/bus/sessions.ts";
import type { LoggedEntry } from "../../src/spawner/state.ts";
import { waitFor } from "../helpers/poll.ts";

export { waitFor };

export { readJsonLines } from "./stand-ins.ts";

/** node_modules/.bin, where the pinned `claude` lives. */
export const CLAUDE_DIR = dirname(CLAUDE_BIN);

/** PATH without any node_modules/.bin (npm test puts ours first), optionally with ours first again. */
export function pathWith(o: { claude: boolean }): string {
  const rest = (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin")
    .split(delimiter)
    .filter((d) => d !== "" && !/node_modules[\\/]\.bin$/.test(d));
  return [...(o.claude ? [CLAUDE_DIR] : []), ...rest].join(delimiter);
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `session-bridge ARGS` with exactly `env` (the sandbox's clean environment, plus what the caller adds). */
export function bridge(env: Record<string, string>, args: string[], cwd?: string): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8", timeout: 60_000, ...(cwd && { cwd }) });
  if (r.error) throw new Error(`cannot run session-bridge ${args.join(" ")}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like `bridge`, failing the test on a non-zero exit. */
export function bridgeOk(env: Record<string, string>, args: string[], cwd?: string): string {
  const r = bridge(env, args, cwd);
  if (r.status !== 0)
    throw new Error(`session-bridge ${args.join(" ")} exited ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r.stdout;
}

export interface InstallOptions {
  /** `--wake rewake`: the asyncRewake Stop hook. */
  rewake?: boolean;
  /** Put node_modules/.bin on PATH so install registers the MCP server with `claude mcp add-json`. */
  viaClaude?: boolean;
  /** More folders to answer the trust question for (the sandbox's cwd already is). */
  trust?: string[];
}

/**
 * The wiring a user does: `session-bridge install --config-dir <sandbox config>`. No hand-written
 * hooks or MCP entries; afterwards only the first-run answers are merged into .claude.json.
 * Returns install's output (it names how the MCP server was registered).
 */
export function installBridge(box: Sandbox, o: InstallOptions = {}): string {
  const env = { ...box.env, PATH: pathWith({ claude: o.viaClaude === true }) };
  const out = bridgeOk(env, ["install", "--config-dir", box.configDir, ...(o.rewake ? ["--wake", "rewake"] : [])]);
  const via = /registered MCP server "session-bridge" with `(\S+) mcp add-json/.exec(out);
  if (o.viaClaude && via?.[1] !== join(CLAUDE_DIR, "claude"))
    throw new Error(`install did not use ${CLAUDE_DIR}/claude mcp add-json:\n${out}`);
  if (!o.viaClaude && via) throw new Error(`install used ${via[1]} although claude was not on PATH:\n${out}`);
  writeClaudeJson(box.configDir, { trust: o.trust ?? [] });
  return out;
}

/** The environment of a session started as `BRIDGE_PROJECT=… BRIDGE_ROLE=… claude`. */
export function roleEnv(
  base: Record<string, string>,
  root: string,
  project: string,
  role: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { ...base, BRIDGE_ROOT: root, BRIDGE_PROJECT: project, BRIDGE_ROLE: role, ...extra };
}

/**
 * The role's session records as the bus itself reads them: finished `<pid>.json` files only. Reading
 * every name in the folder would also catch a record's temporary file mid-write (empty JSON).
 */
export function sessionRecords(root: string, project: string, role: string): SessionView[] {
  return listSessions(rolePaths(root, project, role));
}

/** An inbox line as the store writes it (src/bus/message.ts). */
export type StoredMessage = Message;

export function roleDir(root: string, project: string, role: string): string {
  return join(root, "projects", project, role);
}

/** Every message ever appended to a role's inbox (one JSON object a line). */
export function inbox(root: string, project: string, role: string): StoredMessage[] {
  return readJsonLines(join(roleDir(root, project, role), "inbox.jsonl")) as StoredMessage[];
}

export function readJson(file: string): any {
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined;
}

/** A line of the daemon's log.jsonl (src/spawner/state.ts createLogger). */
export type DaemonLogEntry = LoggedEntry & { code?: string };

export function daemonLog(root: string): DaemonLogEntry[] {
  return readJsonLines(join(root, "spawner", "log.jsonl")) as DaemonLogEntry[];
}

export function describeDaemonLog(root: string): string {
  return (
    daemonLog(root)
      .map((e) => `  ${e.event} ${e.project ?? ""}/${e.role ?? ""}: ${e.msg}`)
      .join("\n") || "  (empty daemon log)"
  );
}

export interface Daemon {
  pid: number;
  stderr(): string;
  /** SIGTERM, then SIGKILL for anything left of its tree after 5 s. */
  stop(): Promise<void>;
}

/** `session-bridge spawner run` with exactly `env`; stopped after the test, pass or fail. */
export async function startDaemon(t: TestContext, env: Record<string, string>): Promise<Daemon> {
  const root = env.BRIDGE_ROOT;
  if (!root) throw new Error("the daemon needs BRIDGE_ROOT in its environment");
  const starts = () => daemonLog(root).filter((e) => e.event === "start").length;
  const before = starts();
  // Its own process group: stopping it also ends any claude -p it is still running.
  const child = spawn(process.execPath, [BIN, "spawner", "run"], { env, stdio: ["ignore", "ignore", "pipe"], detached: true });
  const pid = child.pid ?? -1;
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const forget = onProcessExit(() => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Already gone: nothing to end.
    }
  });
  let stopped: Promise<void> | undefined;
  const daemon: Daemon = {
    pid,
    stderr: () => err,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          // A clean stop SIGTERMs its runs and waits for them; the tree kill is the backstop.
          await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
          await killTree(pid, "SIGKILL");
        }
        forget();
      })();
      return stopped;
    },
  };
  onCleanup(t, () => daemon.stop());
  await waitFor("the daemon's start marker", () => starts() > before || child.exitCode !== null, 15_000);
  if (child.exitCode !== null) throw new Error(`the daemon exited ${child.exitCode}: ${err}`);
  return daemon;
}

/** `spawner status --json` as a human sees it. */
export function spawnerStatus(env: Record<string, string>): any {
  return JSON.parse(bridgeOk(env, ["spawner", "status", "--json"]));
}
