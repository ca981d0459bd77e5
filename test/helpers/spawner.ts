// Shared by the spawner tests: a fresh root, the built binary, the daemon as a child process,
// its JSON-lines log as the source of markers, and waiting with a deadline (never fixed sleeps).
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, REPO } from "./bin.ts";
import { waitFor } from "./poll.ts";
import type { LoggedEntry } from "../../src/spawner/state.ts";

export { waitFor };

export interface Sandbox {
  dir: string;
  root: string;
  bin: string;
  cleanup(): void;
}

/** A temp folder with a bridge root and a bin folder for fake programs. */
export function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), "sb-spawner-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  return {
    dir,
    root: join(dir, "root"),
    bin,
    cleanup: () => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }),
  };
}

/** Links a fixture script into the sandbox's bin folder under `name`. */
export function installFixture(box: Sandbox, fixture: string, name = "claude"): string {
  const target = join(box.bin, name);
  symlinkSync(join(REPO, "test/fixtures", fixture), target);
  return target;
}

export function baseEnv(box: Sandbox, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BRIDGE_ROOT: box.root,
    PATH: `${box.bin}:${process.env.PATH ?? ""}`,
    FIXTURE_BIN: BIN,
    ...extra,
  };
  for (const name of ["BRIDGE_PROJECT", "BRIDGE_ROLE", "BRIDGE_ADMIN", "BRIDGE_CHAIN", "BRIDGE_HOP", "CLAUDECODE", "TMUX", "TMUX_PANE"]) {
    if (!(name in extra)) delete env[name];
  }
  return env;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(box: Sandbox, args: string[], extra: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: baseEnv(box, extra), encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI and fails the test on a non-zero exit. */
export function ok(box: Sandbox, args: string[], extra: Record<string, string> = {}): string {
  const r = cli(box, args, extra);
  if (r.status !== 0) throw new Error(`session-bridge ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export interface Sent {
  id: string;
  chain: string;
  hop: number;
}

/** Sends from a shell (a human): a new chain at hop 0. */
export function send(box: Sandbox, project: string, from: string, to: string, body: string, extra: Record<string, string> = {}): Sent {
  const out = ok(box, ["send", "--json", "--queue", "--project", project, "--role", from, to, body], extra);
  return JSON.parse(out) as Sent;
}

/** A line of the daemon's log.jsonl (src/spawner/state.ts createLogger writes `t` too). */
export type LogEntry = LoggedEntry & { t: number; code?: string };

export function readLog(box: Sandbox): LogEntry[] {
  return readJsonLines<LogEntry>(join(box.root, "spawner", "log.jsonl"));
}

/**
 * The complete lines of a JSON-lines file, which another process may be appending to while this
 * reads: a last line without its newline is still being written (a write that crosses a page
 * boundary can be seen half done) and is left for the next read. Any other line that does not
 * parse throws: that would be a real fault.
 */
export function readJsonLines<T = Record<string, unknown>>(path: string): T[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);
}

export async function waitForLog(box: Sandbox, what: string, match: (e: LogEntry) => boolean, timeoutMs = 20_000): Promise<LogEntry> {
  return waitFor(
    what,
    () => readLog(box).find(match),
    timeoutMs,
    () =>
      readLog(box)
        .map((e) => `  ${e.event} ${e.project ?? ""}/${e.role ?? ""}: ${e.msg}`)
        .join("\n"),
  );
}

export interface DaemonProc {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

export function startDaemon(box: Sandbox, extra: Record<string, string> = {}, args: string[] = []): DaemonProc {
  const child = spawn(process.execPath, [BIN, "spawner", "run", ...args], {
    env: baseEnv(box, extra),
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Starts the daemon and waits for its start marker. */
export async function runDaemon(box: Sandbox, extra: Record<string, string> = {}, args: string[] = []): Promise<DaemonProc> {
  const before = readLog(box).filter((e) => e.event === "start").length;
  const daemon = startDaemon(box, extra, args);
  await waitFor(
    "the daemon's start marker",
    () => readLog(box).filter((e) => e.event === "start").length > before || daemon.child.exitCode !== null,
    15_000,
  );
  if (daemon.child.exitCode !== null) throw new Error(`the daemon exited ${daemon.child.exitCode}: ${daemon.stderr()}`);
  return daemon;
}

export function wakes(box: Sandbox, role?: string): LogEntry[] {
  return readLog(box).filter((e) => e.event === "wake" && (role === undefined || e.role === role));
}
