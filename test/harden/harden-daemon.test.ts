// The wake daemon survives its environment failing under it: the tmux server dying, a role's
// folder vanishing, its own state folder removed, the settings file replaced by a link, and wake
// bookkeeping from a clock that jumped. Each time it logs why, keeps running,
// and wakes the role once the world is right again (a deferred wake is retried, never stranded).
// (claude missing from PATH and a settings file of garbage are in spawner-spawn/spawner-daemon.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { registerSession } from "../../src/bus/sessions.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { BIN } from "../helpers/bin.ts";
import { installFixture, ok, readJsonLines, readLog, runDaemon, sandbox, send, waitFor, waitForLog } from "../helpers/spawner.ts";
import type { DaemonProc, Sandbox } from "../helpers/spawner.ts";
import { TmuxServer } from "../helpers/tmux.ts";
import { DEFAULT_NUDGE } from "../../src/settings/schema.ts";

interface Start {
  event: string;
  env: Record<string, string>;
}

function spawnBox(t: TestContext): { box: Sandbox; cwd: string; log: string; daemon: () => Promise<DaemonProc> } {
  const box = sandbox();
  installFixture(box, "fake-claude-p.mjs");
  const cwd = join(box.dir, "work");
  mkdirSync(cwd);
  const log = join(box.dir, "claude.jsonl");
  ok(box, ["spawner", "on"]);
  ok(box, ["spawner", "config", "driver=spawn", "cooldownSeconds=0"]);
  ok(box, ["spawner", "set", "--force", "shop", "backend", `cwd=${cwd}`]);
  let proc: DaemonProc | undefined;
  t.after(async () => {
    await proc?.stop();
    box.cleanup();
  });
  return { box, cwd, log, daemon: async () => (proc = await runDaemon(box, { FIXTURE_LOG: log })) };
}

const runs = (log: string): Start[] => readJsonLines<Start>(log).filter((e) => e.event === "start");
const alive = (d: DaemonProc): boolean => d.child.exitCode === null && d.child.signalCode === null;
const events = (box: Sandbox, name: string): number => readLog(box).filter((e) => e.event === name).length;

test("daemon: a role's folder vanishing is a refusal naming it, and the wake comes once the folder is back", async (t) => {
  const { box, cwd, log, daemon } = spawnBox(t);
  const d = await daemon();
  send(box, "shop", "web", "backend", "one");
  await waitFor("run 1", () => runs(log).length === 1);
  rmSync(cwd, { recursive: true });
  const m2 = send(box, "shop", "web", "backend", "two");
  const refusal = await waitForLog(box, "the refusal", (e) => e.role === "backend" && e.code === "no-target");
  assert.match(
    refusal.msg,
    new RegExp(`cwd ${cwd} of shop/backend cannot be used \\(ENOENT: .*\\); session-bridge spawner set shop backend cwd=`),
  );
  assert.ok(alive(d));
  mkdirSync(cwd);
  await waitFor("the deferred wake, retried once the folder is back", () => runs(log).length === 2);
  const wakes = readLog(box).filter((e) => e.event === "wake");
  assert.deepEqual(wakes.at(-1)!.ids, [m2.id]);
});

test("daemon: its own state folder removed mid-run is survived; wakes go on and the state is written again", async (t) => {
  const { box, log, daemon } = spawnBox(t);
  const d = await daemon();
  send(box, "shop", "web", "backend", "one");
  await waitFor("run 1", () => runs(log).length === 1);
  await waitForLog(box, "run 1 to end", (e) => e.event === "run-end");
  rmSync(join(box.root, "spawner"), { recursive: true, force: true });
  send(box, "shop", "web", "backend", "two");
  await waitFor(
    "run 2 without a state folder",
    () => runs(log).length === 2,
    20_000,
    () => d.stderr(),
  );
  assert.ok(alive(d));
  // The daemon's log lines that could not be written went to stderr instead.
  assert.match(d.stderr(), /log-error: cannot write .*log\.jsonl|waking via spawn/);
});

test("daemon: a settings file replaced by a symbolic link is not followed; the last good settings stay in force", async (t) => {
  const { box, log, daemon } = spawnBox(t);
  const d = await daemon();
  send(box, "shop", "web", "backend", "one");
  await waitFor("run 1", () => runs(log).length === 1);
  const config = join(box.root, "bridge-settings.json");
  const elsewhere = join(box.dir, "elsewhere.json");
  // A link to a file that would switch automation off: it must not be read. Renamed into place,
  // as an editor saves, so there is no instant without a settings file (which means the defaults).
  writeFileSync(elsewhere, JSON.stringify({ enabled: false }));
  symlinkSync(elsewhere, `${config}.new`);
  renameSync(`${config}.new`, config);
  send(box, "shop", "web", "backend", "two");
  const error = await waitForLog(box, "the settings error", (e) => e.event === "config-error");
  assert.match(error.msg, /bridge-settings\.json cannot be read \(E_SYMLINK: .*symbolic link.*keeping the last good settings/);
  await waitFor("run 2 with the last good settings", () => runs(log).length === 2);
  assert.ok(alive(d));
  assert.match(ok(box, ["spawner", "status"]), /daemon: running/);
});

test("daemon: wake bookkeeping from a clock that jumped (in-flight, last wake and rate stamps in the far future) does not hold the role", async (t) => {
  const { box, log, daemon } = spawnBox(t);
  const paths = rolePaths(box.root, "shop", "backend");
  ok(box, ["send", "--queue", "--project", "shop", "--role", "web", "backend", "join"]);
  ok(box, ["recv", "--project", "shop", "--role", "backend"]);
  const future = Date.parse("2999-01-01T00:00:00Z");
  writeFileSync(
    paths.wake,
    JSON.stringify({ recent: Array.from({ length: 50 }, (_, i) => future + i), lastWakeAt: future, inFlightSince: future }),
  );
  await daemon();
  const m = send(box, "shop", "web", "backend", "after the jump");
  await waitFor(
    "a run despite the stamps from the future",
    () => runs(log).length === 1,
    20_000,
    () =>
      readLog(box)
        .map((e) => `${e.event}: ${e.msg}`)
        .join("\n"),
  );
  assert.deepEqual(readLog(box).find((e) => e.event === "wake")!.ids, [m.id]);
});

test("daemon: the tmux server dying is survived; the role is woken in its new server once its session is back", async (t) => {
  if (spawnSync("tmux", ["-V"]).status !== 0) return t.skip("tmux is not installed");
  const box = sandbox();
  installFixture(box, "fake-claude-tui.mjs");
  const first = new TmuxServer(join(box.dir, "a"));
  mkdirSync(join(box.dir, "a"));
  const second = new TmuxServer(join(box.dir, "b"));
  mkdirSync(join(box.dir, "b"));
  let d: DaemonProc | undefined;
  const sleeper = spawn(process.execPath, ["-e", "setInterval(() => {}, 1e6)"], { stdio: "ignore" });
  t.after(async () => {
    sleeper.kill("SIGKILL");
    await d?.stop();
    first.kill();
    second.kill();
    box.cleanup();
  });
  ok(box, ["spawner", "on"]);
  ok(box, ["spawner", "config", "cooldownSeconds=0"]);
  const logOf = join(box.dir, "backend.jsonl");
  const session = async (server: TmuxServer): Promise<void> => {
    const before = readJsonLines(logOf).filter((e) => e.event === "ready").length;
    server.pane([join(box.bin, "claude")], {
      BRIDGE_ROOT: box.root,
      BRIDGE_PROJECT: "shop",
      BRIDGE_ROLE: "backend",
      FIXTURE_BIN: BIN,
      FIXTURE_LOG: logOf,
      FIXTURE_NUDGE: DEFAULT_NUDGE,
      PATH: `${box.bin}:${process.env.PATH ?? ""}`,
    });
    await waitFor("the session to register", () => readJsonLines(logOf).filter((e) => e.event === "ready").length > before);
  };
  const wakesSeen = (): number => readJsonLines(logOf).filter((e) => e.event === "wake").length;
  await session(first);
  d = await runDaemon(box);
  send(box, "shop", "web", "backend", "one");
  await waitFor("the first nudge", () => wakesSeen() === 1);
  // The server dies with its panes. A claude that outlived it (here a sleeper holding a record on
  // the dead server's socket) makes the daemon talk to a server that is not there.
  first.kill();
  registerSession(rolePaths(box.root, "shop", "backend"), { pid: sleeper.pid!, tmux: { pane: "%0", socket: first.socket } });
  const m2 = send(box, "shop", "web", "backend", "two");
  const refusal = await waitForLog(box, "the refusal", (e) => e.role === "backend" && e.code === "no-target");
  assert.match(
    refusal.msg,
    new RegExp(`tmux pane %0 on tmux server ${first.socket.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is gone \\(.+\\); not typing anywhere`),
  );
  assert.ok(alive(d));
  sleeper.kill("SIGKILL");
  await session(second);
  await waitFor(
    "the deferred wake in the new server",
    () => wakesSeen() === 2,
    20_000,
    () =>
      readLog(box)
        .map((e) => `${e.event}: ${e.msg}`)
        .join("\n"),
  );
  const woke = readJsonLines<{ event: string; ids: string[] }>(logOf)
    .filter((e) => e.event === "wake")
    .at(-1)!;
  assert.deepEqual(woke.ids, [m2.id], "the session in the new server took the mail sent while the old one was dead");
  assert.equal(events(box, "error"), 0, "no unexpected errors logged");
  assert.ok(existsSync(join(box.root, "spawner/daemon.pid")));
});
