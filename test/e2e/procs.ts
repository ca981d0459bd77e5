// Ending what a test started: a claude process, its MCP servers and its hooks, even when the
// test fails or the runner exits early.
import { readdirSync, readFileSync } from "node:fs";
import type { TestContext } from "node:test";
import { psFacts, psParents } from "../../src/lib/ps.ts";

/** The pid and every live descendant (from /proc; without it, from `ps -A`, as on macOS). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    entries = [];
  }
  if (entries.length === 0) {
    for (const [child, parent] of psParents() ?? []) children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  for (const name of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // Exited while we were reading: nothing to kill.
    }
    // "pid (comm) state ppid …": comm may contain spaces and parentheses, so split after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** True while the process runs; a zombie (dead, not yet reaped by its new parent) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    // No /proc (macOS, scripts/without-proc.sh): ps tells a zombie.
    return psFacts(pid)?.stat.startsWith("Z") !== true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err; // ESRCH: already gone, which is the goal.
  }
}

/** Signals the tree (collected first: children are re-parented once the root dies) and its group. */
export function killTreeSync(pid: number, sig: NodeJS.Signals): number[] {
  if (pid <= 0) return [];
  const pids = processTree(pid);
  // The root is a group leader when we spawned it detached (claude -p) or tmux made it a pane.
  signal(-pid, sig);
  for (const p of pids) signal(p, sig);
  return pids;
}

/** SIGTERM (or `sig`), then SIGKILL whatever is still alive after `graceMs`. */
export async function killTree(pid: number, sig: NodeJS.Signals = "SIGTERM", graceMs = 2000): Promise<void> {
  const pids = killTreeSync(pid, sig);
  if (sig === "SIGKILL") return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(isAlive)) await new Promise((r) => setTimeout(r, 25));
  for (const p of pids.filter(isAlive)) signal(p, "SIGKILL");
  signal(-pid, "SIGKILL");
}

const atExit = new Set<() => void>();
let hooked = false;

/** Runs `fn` (synchronously) if the test process exits while it is registered; returns unregister. */
export function onProcessExit(fn: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const f of atExit) {
        try {
          f();
        } catch {
          // Best effort at exit: one failing cleanup must not stop the others.
        }
      }
    });
  }
  atExit.add(fn);
  return () => void atExit.delete(fn);
}

const stacks = new WeakMap<TestContext, (() => unknown)[]>();

/**
 * Registers cleanup for test `t`, run LAST-IN-FIRST-OUT after the test, pass or fail
 * (node:test runs `t.after` hooks first-in-first-out, which would remove a sandbox while
 * the claude started later still writes into it). Every step runs even if one throws.
 */
export function onCleanup(t: TestContext, fn: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const fresh: (() => unknown)[] = [];
    stacks.set(t, fresh);
    stack = fresh;
    t.after(async () => {
      const errors: unknown[] = [];
      while (fresh.length > 0) {
        try {
          await fresh.pop()!();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanup steps failed`);
    });
  }
  stack.push(fn);
}
