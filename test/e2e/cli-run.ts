// What the Codex and Gemini harnesses share: a sandbox folder that always goes away, running a
// CLI with exactly the environment given (its whole process tree ended on timeout, test end or
// runner exit), and optionally inside a network namespace that has only loopback.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import type { TestContext } from "node:test";
import { shellQuote } from "./claude.ts";
import { FIXTURES } from "./constants.ts";
import { killTree, killTreeSync, onCleanup, onProcessExit } from "./procs.ts";

export interface SandboxDirs {
  /** Temp folder holding everything; removed after the test (kept with E2E_KEEP=1). */
  root: string;
  home: string;
  /** The project folder the CLI runs in. */
  cwd: string;
  /** TMPDIR for the CLI: it keeps its own temp files there. */
  tmp: string;
}

/** Fresh root with home/, work/ and tmp/, registered first so it is removed after everything else. */
export function makeDirs(t: TestContext, prefix: string): SandboxDirs {
  const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  const dirs = { root, home: join(root, "home"), cwd: join(root, "work"), tmp: join(root, "tmp") };
  for (const dir of [dirs.home, dirs.cwd, dirs.tmp]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  onCleanup(t, () => {
    if (process.env.E2E_KEEP) t.diagnostic(`kept sandbox ${root}`);
    else rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  });
  return dirs;
}

/** A short unix socket path (they are limited to ~100 bytes) in a folder removed after the test. */
export function socketPath(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-sock-"));
  onCleanup(t, () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "model.sock");
}

/** Refuses a base URL that is not loopback: e2e tests only talk to the local scripted server. */
export function assertLoopback(baseUrl: string): void {
  const host = new URL(baseUrl).hostname;
  if (host !== "127.0.0.1" && host !== "localhost") {
    throw new Error(`base URL ${baseUrl} is not loopback; e2e tests must only talk to the scripted server on 127.0.0.1`);
  }
}

/** The variables every CLI run starts from (never process.env: no real key or agent variable leaks in). */
export function baseEnv(dirs: SandboxDirs): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin", HOME: dirs.home, LANG: "C.UTF-8", TMPDIR: dirs.tmp };
}

export interface Netns {
  /** The unix socket the scripted server also listens on (`unixSocket` option). */
  unixSocket: string;
  /** The server's TCP port: the same http://127.0.0.1:PORT works inside. */
  port: number;
}

export interface CliRunOptions {
  bin: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs?: number;
  /** Run inside a new network namespace with only loopback (see fixtures/netns-run.mjs). */
  netns?: Netns;
}

export interface CliRunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The process we spawned (the npm launcher script, or netns-run's `unshare`). */
  pid: number;
  /** Wall time from spawn to exit. */
  ms: number;
}

/** Runs BIN ARGS with stdin at EOF (/dev/null: `codex exec` waits for an open stdin to close). */
export function runCli(o: CliRunOptions): Promise<CliRunResult> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const [cmd, args] = o.netns
    ? [
        "unshare",
        [
          "--net",
          "--",
          process.execPath,
          join(FIXTURES, "netns-run.mjs"),
          o.netns.unixSocket,
          String(o.netns.port),
          "--",
          o.bin,
          ...o.args,
        ],
      ]
    : [o.bin, o.args];
  const started = performance.now();
  // Own process group: a timeout or a failing test also ends its MCP servers and hooks.
  const child = spawn(cmd, args, { cwd: o.cwd, env: o.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const pid = child.pid ?? -1;
  const forget = onProcessExit(() => killTreeSync(pid, "SIGKILL"));
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void killTree(pid, "SIGTERM", 2000);
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      forget();
      reject(new Error(`cannot run ${cmd}: ${err.message}; run npm ci to install the pinned CLIs`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      forget();
      if (timedOut) {
        const tail = `--- stdout\n${stdout.slice(-3000)}\n--- stderr\n${stderr.slice(-3000)}`;
        reject(new Error(`${o.bin} ${o.args.join(" ")} timed out after ${timeoutMs} ms\n${tail}`));
        return;
      }
      resolve({ code, signal, stdout, stderr, pid, ms: performance.now() - started });
    });
  });
}

/** Why a network namespace cannot be made here (no unshare, no privilege, no `ip`), or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  const r = spawnSync("unshare", ["--net", "--", "ip", "link", "set", "lo", "up"], { encoding: "utf8", timeout: 10_000 });
  if (r.error) return `unshare: ${r.error.message}`;
  if (r.status !== 0) return `unshare --net … ip link set lo up exited ${r.status}: ${r.stderr.trim()}`;
  return undefined;
}

/** One JSON value per line; lines that are not JSON are skipped (CLIs mix in plain notices). */
export function jsonLines(text: string): any[] {
  return text.split("\n").flatMap((l) => {
    if (!l.trim().startsWith("{")) return [];
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
}

/**
 * A `git` first on PATH that only records its arguments and prints `fake-git-ok`: a command that
 * really ran leaves a line in the log, a blocked one does not.
 */
export function fakeGit(box: { root: string; env: Record<string, string> }): { env: Record<string, string>; ran: () => string[] } {
  const bin = join(box.root, "bin");
  const log = join(box.root, "git-ran.txt");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$*" >> ${shellQuote(log)}\necho fake-git-ok\n`, { mode: 0o755 });
  const ran = () =>
    existsSync(log)
      ? readFileSync(log, "utf8")
          .split("\n")
          .filter((l) => l !== "")
      : [];
  return { env: { ...box.env, PATH: `${bin}${delimiter}${box.env.PATH ?? ""}` }, ran };
}

export function describeRun(what: string, r: CliRunResult): string {
  return `${what} exited ${r.code ?? r.signal}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}
