// Process facts (src/lib/proc.ts) from /proc and, without it, from ps (src/lib/ps.ts). These tests
// run twice: as they are, and with /proc hidden (test/platform/without-proc.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import {
  descendsFrom,
  hasProcFs,
  isInForeground,
  isSameProcessAlive,
  parentPid,
  processCommand,
  processStartTime,
} from "../../src/lib/proc.ts";
import { parseLstart, parseParents, parsePsFacts, psFacts } from "../../src/lib/ps.ts";
import { isClaudeCommand, isClaudeName } from "../../src/agents/claude/process.ts";
import { TmuxServer } from "../helpers/tmux.ts";
import { waitFor } from "../helpers/poll.ts";

function started(t: TestContext, command: string, args: string[], options: { detached?: boolean } = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "ignore"], ...options });
  t.after(() => child.kill("SIGKILL"));
  return child;
}

const exited = (child: ChildProcess): Promise<unknown> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", r));

test("the source of facts: /proc where it is mounted, ps where it is not", () => {
  assert.equal(hasProcFs(), process.env.SB_WITHOUT_PROC !== "1", "SB_WITHOUT_PROC=1 is set by scripts/without-proc.sh");
  assert.equal(hasProcFs(), existsSync("/proc/self/stat"));
});

test("ps output is read the same from procps (Linux) and BSD ps (macOS)", () => {
  assert.equal(parseLstart("Sat Dec  5 13:16:41 2026"), Date.UTC(2026, 11, 5, 13, 16, 41) / 1000);
  assert.equal(parseLstart("Mon Nov 23 10:02:11 2026"), Date.UTC(2026, 10, 23, 10, 2, 11) / 1000);
  assert.equal(parseLstart("Mon Foo 23 10:02:11 2026"), undefined);
  assert.equal(parseLstart("23/11/2026"), undefined);
  // procps: a process without a terminal has tpgid -1; multi-threaded shows "l".
  assert.deepEqual(parsePsFacts("  5214  5214    -1 Sl   Sat Dec  5 13:16:41 2026\n"), {
    ppid: 5214,
    pgid: 5214,
    tpgid: -1,
    stat: "Sl",
    start: Date.UTC(2026, 11, 5, 13, 16, 41) / 1000,
  });
  // BSD ps pads differently and shows no terminal as tpgid 0.
  assert.deepEqual(parsePsFacts("    1   412     0 Ss   Thu Nov 26 09:03:07 2026"), {
    ppid: 1,
    pgid: 412,
    tpgid: 0,
    stat: "Ss",
    start: Date.UTC(2026, 10, 26, 9, 3, 7) / 1000,
  });
  assert.equal(parsePsFacts("")?.ppid, undefined);
  assert.equal(parsePsFacts("a b c d"), undefined);
  assert.equal(parsePsFacts("1 2 3 S garbage")?.start, undefined, "an unreadable lstart is an unknown start, not a wrong one");
  assert.deepEqual(
    [...parseParents("  1     0\n 42     1\n\nx y\n")],
    [
      [1, 0],
      [42, 1],
    ],
  );
});

test("ps is found without it on PATH too (a trimmed hook environment): /bin/ps", {
  skip: !hasProcFs() && "Linux's own ps needs /proc",
}, () => {
  const saved = process.env.PATH;
  process.env.PATH = "/nonexistent";
  try {
    assert.equal(psFacts(process.pid)?.ppid, process.ppid);
  } finally {
    process.env.PATH = saved;
  }
});

test("start times tell a live process from a later one with the same pid; each kind is compared only with its own", async (t) => {
  const child = started(t, "sleep", ["60"]);
  const pid = child.pid!;
  const start = processStartTime(pid);
  assert.equal(typeof start, hasProcFs() ? "number" : "string", "ticks from /proc, lstart:<secs> from ps");
  assert.equal(isSameProcessAlive(pid, start), true);
  assert.equal(isSameProcessAlive(pid, undefined), true, "no start recorded: kill(0) decides");
  // A start of the ps kind is checked with ps on any system, /proc or not.
  const secs = psFacts(pid)?.start;
  assert.ok(secs !== undefined, "ps gave no lstart");
  assert.equal(isSameProcessAlive(pid, `lstart:${secs}`), true);
  assert.equal(isSameProcessAlive(pid, `lstart:${secs - 3600}`), false, "the pid now belongs to a process started later");
  if (hasProcFs()) assert.equal(isSameProcessAlive(pid, (start as number) - 1), false);
  // Ticks cannot be read without /proc: unknown, so kill(0) decides (never compared with an lstart).
  else assert.equal(isSameProcessAlive(pid, 12345), true);
  assert.equal(isSameProcessAlive(pid, "something else"), true, "a start of no known kind is unknown");
  child.kill("SIGKILL");
  await exited(child);
  assert.equal(isSameProcessAlive(pid, start), false);
  assert.equal(processStartTime(pid), undefined);
  assert.equal(processStartTime(process.pid), processStartTime(process.pid));
});

test("parents and ancestry: a process tree walked up through sh", async (t) => {
  const sh = started(t, "sh", ["-c", "sleep 60 & echo $!; wait"]);
  const grandchild = await new Promise<number>((resolve) => sh.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim()))));
  t.after(() => process.kill(grandchild, "SIGKILL"));
  assert.equal(parentPid(grandchild), sh.pid);
  assert.equal(parentPid(sh.pid!), process.pid);
  assert.equal(descendsFrom(grandchild, process.pid), true);
  assert.equal(descendsFrom(grandchild, sh.pid!), true);
  assert.equal(descendsFrom(grandchild, grandchild), true);
  assert.equal(descendsFrom(process.pid, grandchild), false);
  assert.equal(descendsFrom(sh.pid!, grandchild), false);
  assert.equal(parentPid(2 ** 22 + 12345), undefined);
});

test("the foreground of a terminal: a pane's program is, a background job and a process with no terminal are not", async (t) => {
  const detached = started(t, "sleep", ["60"], { detached: true });
  assert.equal(isInForeground(detached.pid!), false, "a new session has no terminal");
  const dir = mkdtempSync(join(tmpdir(), "sb-fg-"));
  const tmux = new TmuxServer(dir);
  t.after(() => {
    tmux.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  const pane = tmux.pane(["sh"], { PS1: "$ " });
  const shell = Number(tmux.info(pane, "#{pane_pid}"));
  const job = join(dir, "job");
  tmux.type(pane, `sleep 300 & echo $! > ${job}`);
  await waitFor("the background job's pid", () => existsSync(job) && readFileSync(job, "utf8").trim() !== "");
  const background = Number(readFileSync(job, "utf8"));
  t.after(() => process.kill(background, "SIGKILL"));
  assert.equal(isInForeground(shell), true, "the shell waiting for input has the terminal");
  assert.equal(isInForeground(background), false);
  tmux.type(pane, "exec sleep 300");
  await waitFor("sleep in front", () => isInForeground(shell) === true && processCommand(shell)?.comm === "sleep");
  assert.equal(isInForeground(2 ** 22 + 12345), undefined, "a pid that is not there: unknown");
});

test("what a process runs: the kernel's name and its arguments; how Claude Code is recognised", async (t) => {
  const child = started(t, "sleep", ["61"]);
  assert.deepEqual(processCommand(child.pid!), { comm: "sleep", argv: ["sleep", "61"] });
  // A program started through a link named claude is "claude" to the kernel (npm: .bin/claude → bin/claude.exe).
  const dir = mkdtempSync(join(tmpdir(), "sb-comm-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync("/bin/sleep", join(dir, "claude"));
  const claude = started(t, join(dir, "claude"), ["62"]);
  const command = processCommand(claude.pid!);
  assert.equal(command?.comm, "claude");
  assert.equal(isClaudeCommand(command!), true);
  assert.equal(isClaudeCommand(processCommand(child.pid!)!), false);
  child.kill("SIGKILL");
  await exited(child);
  assert.equal(processCommand(child.pid!), undefined);

  for (const name of ["claude", "claude.exe", "/usr/local/bin/claude", "/Users/me/.local/share/claude/versions/2.1.328"]) {
    assert.equal(isClaudeName(name), true, name);
  }
  for (const name of ["bash", "2.1.328", "claude-helper", "node", ""]) assert.equal(isClaudeName(name), false, name);
  assert.equal(isClaudeCommand({ comm: "node", argv: ["node", "/opt/lib/node_modules/@anthropic-ai/claude-code/cli.js"] }), true);
  assert.equal(isClaudeCommand({ comm: "2.1.328", argv: ["claude", "--resume"] }), true, "macOS, native installer");
  assert.equal(isClaudeCommand({ comm: "node", argv: ["node", "server.js", "claude"] }), false);
});
