// The daemon and `hook wait` can both see the same new mail. Whichever claims the wake first
// delivers it; the other must find nothing left, and never wake the session a second time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { receive, sendMessage } from "../../src/bus.ts";
import { createDaemon } from "../../src/spawner/daemon.ts";
import type { TmuxDeps } from "../../src/spawner/drivers/tmux.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { registerSession } from "../../src/bus/sessions.ts";
import { descendsFrom } from "../../src/lib/proc.ts";
import { turnOn, updateGlobal } from "../../src/settings/ops.ts";
import { loadDaemonState } from "../../src/spawner/state.ts";
import type { LogEntry } from "../../src/spawner/state.ts";
import { readWakeState, wakeLockPath } from "../../src/wake/state.ts";
import { REPO } from "../helpers/bin.ts";
import { makeRoot, waitUntil } from "../helpers/cli.ts";

const WORKER = join(REPO, "dist/test/fixtures/bus-worker.mjs");

test("mail a rewake takes while the daemon is about to claim the wake wakes nobody a second time: no nudge, no wake recorded", async (t) => {
  const root = makeRoot(t);
  const backend = rolePaths(root, "shop", "backend");
  receive({ root, project: "shop", role: "web" }, { by: "join" });
  // This test process plays the claude of backend's session, in pane %3.
  registerSession(backend, { pid: process.pid, tmux: { pane: "%3", socket: "/tmp/sb-race.sock" } });
  turnOn(root, "shop", "backend");
  updateGlobal(root, { cooldownSeconds: 0 });

  const calls: string[][] = [];
  let rewake: ChildProcess | undefined;
  let rewakeOut = (): string => "";
  t.after(() => rewake?.kill("SIGKILL"));
  const tmux: TmuxDeps = {
    run: async (args) => {
      calls.push(args);
      if (args.includes("display-message") && !rewake) {
        // While the daemon checks the pane, a rewake starts its own claim: it holds the role's wake
        // lock and consumes the mail under it. The daemon's claim must wait for it, then find nothing.
        rewake = spawn(process.execPath, [WORKER, "hold-consume", wakeLockPath(backend), "600", root, "shop", "backend"], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        rewake.stdout!.on("data", (d: Buffer) => (out += d));
        await waitUntil(
          () => out.includes("locked"),
          10_000,
          () => "the rewake stand-in never took the wake lock",
        );
        rewakeOut = () => out;
        return { code: 0, stdout: `%3\t${process.pid}\t0\t0\tclaude\n`, stderr: "" };
      }
      return { code: 0, stdout: "", stderr: "" };
    },
    sleep: () => new Promise((resolve) => setImmediate(resolve)),
    confirmMs: 30,
    // This process has no terminal: let it count as the claude in the pane's foreground.
    facts: { descendsFrom, isInForeground: () => true },
  };
  const events: LogEntry[] = [];
  const daemon = createDaemon({ root, env: {}, now: Date.now, replay: false, log: (e) => events.push(e), tmux, rescanMs: 100 });
  daemon.start();
  t.after(() => daemon.stop());

  sendMessage({
    identity: { root, project: "shop", role: "web" },
    to: "backend",
    body: "ping",
    stamp: { chain: "c1", hop: 0 },
    limits: { maxBodyBytes: 1024, fsync: false },
  });
  const inboxEnd = () => statSync(backend.inbox).size;
  await waitUntil(
    () => loadDaemonState(root).positions["shop/backend"]?.offset === inboxEnd(),
    10_000,
    () => `daemon never moved past the mail; calls: ${JSON.stringify(calls)}; log: ${JSON.stringify(events)}`,
  );

  await waitUntil(
    () => rewakeOut().includes("consumed 1"),
    10_000,
    () => `the stand-in did not consume: ${rewakeOut()}`,
  );
  assert.ok(
    calls.some((a) => a.includes("display-message")),
    "the daemon did look at the pane",
  );
  assert.deepEqual(
    calls.filter((a) => a.includes("send-keys")),
    [],
    "no nudge typed",
  );
  assert.deepEqual(
    events.filter((e) => e.event === "wake"),
    [],
  );
  assert.equal(readWakeState(backend).lastWake, undefined);
  await daemon.stop();
});
