// The interactive Claude Code TUI in a tmux pane on a PRIVATE server (`tmux -S <tmp>/sock`):
// tests never touch the user's default tmux server. Several TUIs can share one server (`server`),
// each in its own window, as a user runs sibling sessions in panes of one tmux.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { CLAUDE_BIN, CLAUDE_COMMAND } from "./constants.ts";
import { isAlive, killTree, killTreeSync, onCleanup, onProcessExit, processTree } from "./procs.ts";

export interface TuiOptions {
  /** When given, the TUI is killed after the test, pass or fail (see onCleanup). */
  t?: TestContext;
  cwd: string;
  env: Record<string, string>;
  /** Arguments for claude; `--permission-mode default` is added unless a mode is given. */
  args?: string[];
  /** Another CLI to run instead of claude (its `args` are passed as they are). */
  bin?: string;
  /** What the pane shows once the CLI is ready; default Claude Code's footer. */
  ready?: RegExp;
  cols?: number;
  rows?: number;
  /** Deadline for the ready footer. */
  readyTimeoutMs?: number;
  /**
   * Open this TUI as a new window on that TUI's tmux server instead of starting a server. Its
   * environment is passed with `new-window -e` for every variable in `env` (a pane otherwise gets
   * the server's environment, which is the first TUI's). The owner's kill() ends the whole server.
   */
  server?: Tui;
}

export interface Tui {
  /** The private tmux socket. */
  readonly socket: string;
  /** tmux target of the pane, e.g. `e2e:0.0`. */
  readonly target: string;
  /** The claude process (the pane runs it directly: pane_pid). */
  readonly pid: number;
  /** `%N`, what claude sees as TMUX_PANE. */
  readonly paneId: string;
  /** Milliseconds from starting tmux to the ready footer. */
  readonly readyMs: number;
  /** The pane text, scrollback included, wrapped lines joined. */
  capture(): string;
  /** Polls the pane until the pattern shows; rejects with the pane text at the deadline. */
  waitFor(pattern: string | RegExp, deadlineMs: number): Promise<string>;
  /** Types literal text and waits until it shows in the input box. */
  type(text: string): Promise<void>;
  /** type(text), then Enter as its own key press (Enter in the same call is sometimes dropped). */
  submit(text: string): Promise<void>;
  /** tmux key names: "Enter", "Escape", "C-c"… */
  press(...keys: string[]): void;
  /** True once claude has exited (the pane stays, dead, for inspection). */
  exited(): boolean;
  waitForExit(deadlineMs: number): Promise<void>;
  /** Ends the tmux server, claude and its children; safe to call twice. */
  kill(): Promise<void>;
}

const READY = /\? for shortcuts|mode on/;

export async function startTui(o: TuiOptions): Promise<Tui> {
  // A short private folder: socket paths are limited to ~100 bytes. A guest pane uses its host's.
  const dir = o.server ? undefined : mkdtempSync(join(tmpdir(), "sb-tmux-"));
  const socket = o.server ? o.server.socket : join(dir!, "sock");
  const tmux = (...args: string[]) => {
    const r = spawnSync("tmux", ["-S", socket, ...args], { encoding: "utf8", env: o.env });
    if (r.error) throw new Error(`cannot run tmux: ${r.error.message}; install tmux (apt-get install tmux)`);
    return r;
  };
  const args = o.args ?? [];
  const bin = o.bin ?? CLAUDE_BIN;
  const claudeArgs = o.bin || args.includes("--permission-mode") ? args : ["--permission-mode", "default", ...args];
  const started = performance.now();
  let target: string;
  if (dir) {
    const conf = join(dir, "tmux.conf");
    // remain-on-exit keeps the pane after claude exits so a test can read why it ended.
    writeFileSync(conf, "set -g remain-on-exit on\nset -g history-limit 10000\nset -g default-terminal tmux-256color\n");
    // The first client forks the server, which inherits this environment; the pane gets it plus TMUX/TMUX_PANE.
    const r = tmux(
      "-f",
      conf,
      "new-session",
      "-d",
      "-s",
      "e2e",
      "-x",
      String(o.cols ?? 140),
      "-y",
      String(o.rows ?? 45),
      "-c",
      o.cwd,
      "--",
      ...(bin === CLAUDE_BIN ? CLAUDE_COMMAND : [bin]),
      ...claudeArgs,
    );
    if (r.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`tmux new-session failed (${r.status}): ${r.stderr}`);
    }
    target = "e2e:0.0";
  } else {
    const vars = Object.entries(o.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    const r = tmux(
      "new-window",
      "-d",
      "-P",
      "-F",
      "#{pane_id}",
      "-t",
      "e2e:",
      "-c",
      o.cwd,
      ...vars,
      "--",
      ...(bin === CLAUDE_BIN ? CLAUDE_COMMAND : [bin]),
      ...claudeArgs,
    );
    if (r.status !== 0) throw new Error(`tmux new-window failed (${r.status}): ${r.stderr}`);
    // The pane id (%N) is a stable target, unlike a window index.
    target = r.stdout.trim();
  }
  const [pidText = "", paneId = ""] = tmux("display-message", "-p", "-t", target, "#{pane_pid} #{pane_id}").stdout.trim().split(" ");
  const pid = Number(pidText);
  let tree: number[] = [pid];
  let killed = false;
  // Every pane's claude on the server (an owner ends them all): collected before the server goes.
  const panePids = (): number[] => {
    const l = tmux("list-panes", "-a", "-F", "#{pane_pid}");
    return l.status === 0
      ? l.stdout
          .split("\n")
          .map(Number)
          .filter((n) => n > 0)
      : [];
  };
  const killSync = () => {
    const pids = dir ? [pid, ...panePids()] : [pid];
    if (dir) spawnSync("tmux", ["-S", socket, "kill-server"], { stdio: "ignore" });
    else spawnSync("tmux", ["-S", socket, "kill-pane", "-t", target], { stdio: "ignore" });
    for (const p of pids) killTreeSync(p, "SIGKILL");
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  const forget = onProcessExit(killSync);

  const capture = () => {
    const c = tmux("capture-pane", "-p", "-J", "-S", "-", "-t", target);
    return c.status === 0 ? c.stdout : `(capture failed: ${c.stderr.trim()})`;
  };
  const exited = () => {
    const d = tmux("display-message", "-p", "-t", target, "#{pane_dead}");
    // No server or no pane left means claude is gone too.
    return d.status !== 0 || d.stdout.trim() === "1" || !isAlive(pid);
  };
  const waitFor = async (pattern: string | RegExp, deadlineMs: number) => {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const text = capture();
      if (typeof pattern === "string" ? text.includes(pattern) : pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`pane never showed ${String(pattern)} within ${deadlineMs} ms; pane:\n${text.trimEnd()}`);
      await new Promise((res) => setTimeout(res, 40));
    }
  };
  const type = async (text: string) => {
    // tmux reads an argument ending in ";" as a command separator; "\;" is the escape for it.
    const arg = text.endsWith(";") ? `${text.slice(0, -1)}\\;` : text;
    const t = tmux("send-keys", "-t", target, "-l", "--", arg);
    if (t.status !== 0) throw new Error(`tmux send-keys failed: ${t.stderr}`);
    // Wait for the tail of the text (whitespace-insensitive: the input box wraps) instead of a fixed pause.
    const tail = text.replace(/\s+/g, "").slice(-16);
    const deadline = Date.now() + 5000;
    while (!capture().replace(/\s+/g, "").includes(tail)) {
      if (Date.now() > deadline) throw new Error(`typed text ${JSON.stringify(text)} never showed; pane:\n${capture().trimEnd()}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  };
  const tui: Tui = {
    socket,
    target,
    pid,
    paneId,
    readyMs: 0,
    capture,
    waitFor,
    type,
    async submit(text) {
      await type(text);
      tmux("send-keys", "-t", target, "Enter");
    },
    press(...keys) {
      tmux("send-keys", "-t", target, ...keys);
    },
    exited,
    async waitForExit(deadlineMs) {
      const deadline = Date.now() + deadlineMs;
      while (!exited()) {
        if (Date.now() > deadline)
          throw new Error(`claude (pid ${pid}) still running after ${deadlineMs} ms; pane:\n${capture().trimEnd()}`);
        await new Promise((res) => setTimeout(res, 25));
      }
    },
    async kill() {
      if (killed) return;
      killed = true;
      // Collect the trees first: once claude dies its hooks and MCP servers are re-parented.
      if (isAlive(pid)) tree = processTree(pid);
      if (dir) {
        // The owner ends the server, and with it every guest pane still running.
        for (const p of panePids()) if (p !== pid && isAlive(p)) tree.push(...processTree(p));
        tmux("kill-server");
      } else tmux("kill-pane", "-t", target);
      await Promise.all(tree.filter(isAlive).map((p) => killTree(p, "SIGTERM", 2000)));
      if (dir) rmSync(dir, { recursive: true, force: true });
      forget();
    },
  };
  if (o.t) onCleanup(o.t, () => tui.kill());
  try {
    await waitFor(o.ready ?? READY, o.readyTimeoutMs ?? 15_000);
  } catch (err) {
    await tui.kill();
    throw err;
  }
  return { ...tui, readyMs: performance.now() - started };
}
