// What `send` says will happen to a message, per recipient: the same rails every driver asks,
// with the driver that would act (the role's rewake waiter, else the daemon and the role's
// driver), so "it waits for the next prompt" is said only when that is true.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { rolePaths } from "../../src/bus/layout.ts";
import { acquireDaemonLock } from "../../src/spawner/state.ts";
import { registerSession } from "../../src/bus/sessions.ts";
import { newId, type Message } from "../../src/bus/message.ts";
import { loadSettings } from "../../src/settings/file.ts";
import { forecastWake } from "../../src/wake/forecast.ts";
import { recordWakeDecision } from "../../src/wake/state.ts";
import { createServer } from "node:net";
import { bridge, makeRoot } from "../helpers/cli.ts";

const WAITS = "it waits for that role's next prompt";

function room(t: TestContext): {
  root: string;
  send: (to: string, env?: Record<string, string>) => string;
  admin: (...a: string[]) => void;
} {
  const root = makeRoot(t);
  for (const role of ["web", "api", "infra"]) bridge(["recv"], { root, project: "shop", role });
  return {
    root,
    send(to, env = {}) {
      const r = bridge(["send", to, "hello", "--json"], { root, project: "shop", role: "api", env });
      assert.equal(r.status, 0, r.stderr);
      return r.json().deliveries[0].wake.text as string;
    },
    admin(...args) {
      const r = bridge(["spawner", ...args], { root });
      assert.equal(r.status, 0, r.stderr);
    },
  };
}

test("off, manual, default-off and the loop guard: not woken, saying why and what the mail waits for", (t) => {
  const r = room(t);
  assert.equal(
    r.send("web"),
    `not woken automatically: automation is off (enabled: false); turn it on with \`session-bridge spawner on\`; ${WAITS}`,
  );
  r.admin("on", "shop", "api");
  assert.match(r.send("web"), /^not woken automatically: manual by default; opt in with `session-bridge spawner on shop web`/);
  r.admin("on");
  assert.match(
    r.send("infra"),
    /^not woken automatically: "infra" is a default-off role; opt it in by name: session-bridge spawner on shop infra; it waits/,
  );
  assert.match(
    r.send("web", { BRIDGE_CHAIN: "cloop", BRIDGE_HOP: "6" }),
    /^not woken automatically: loop guard: chain cloop reached hop 6 \(maxHops 6\); the messages wait for a prompt typed by a human/,
  );
});

test("on, but no driver running: the daemon is not running and no rewake waiter holds the role", (t) => {
  const r = room(t);
  r.admin("on");
  assert.equal(
    r.send("web"),
    "not woken automatically: no driver is running for it: the wake daemon is not running (start it: `session-bridge spawner run`) and no rewake waiter holds the role (`session-bridge install --wake rewake`); " +
      WAITS,
  );
  // The plain output says it on the recipient's line, after where it is live.
  const text = bridge(["send", "web", "hi"], { root: r.root, project: "shop", role: "api" }).stdout;
  assert.match(text, /\n {2}web: queued; no live session; not woken automatically: no driver is running for it/);
});

test("a running daemon: which driver wakes the role, or why it cannot; the cooldown defers, never strands", (t) => {
  const r = room(t);
  r.admin("on");
  const lock = acquireDaemonLock(r.root); // this test process holds the daemon lock
  t.after(() => lock.release());
  assert.match(
    r.send("web"),
    /^not woken automatically: no live agent session holds shop\/web; start one in a tmux pane: BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude \(or codex, gemini\); it waits/,
  );
  const cwd = join(r.root, "..", "web-src");
  mkdirSync(cwd);
  r.admin("set", "shop", "web", "driver=spawn");
  assert.match(r.send("web"), /^not woken automatically: no cwd for shop\/web, which the spawn driver runs the role's CLI in/);
  r.admin("set", "shop", "web", `cwd=${cwd}`);
  assert.equal(r.send("web"), `the daemon (pid ${process.pid}) with claude -p in ${cwd} will wake it now`);
  // The CLI named is the one the spawn driver runs: the role's newest session record's, then its agent setting.
  const web = rolePaths(r.root, "shop", "web");
  registerSession(web, { pid: 2 ** 22 + 9, agent: "gemini", sessionId: "g-1" });
  assert.equal(r.send("web"), `the daemon (pid ${process.pid}) with gemini -p in ${cwd} will wake it now`);
  r.admin("set", "shop", "web", "agent=codex");
  assert.equal(r.send("web"), `the daemon (pid ${process.pid}) with codex exec in ${cwd} will wake it now`);
  r.admin("set", "shop", "web", "agent=claude");
  writeFileSync(rolePaths(r.root, "shop", "web").wake, JSON.stringify({ recent: [Date.now()], lastWakeAt: Date.now() }));
  assert.match(
    r.send("web"),
    new RegExp(
      `^the daemon \\(pid ${process.pid}\\) with claude -p in .* will wake it later \\(about \\d{4}-\\S+\\): cooldown: last wake \\d+ s ago \\(cooldownSeconds 10\\)$`,
    ),
  );
});

test("a live rewake waiter is the driver, daemon or not", (t) => {
  const r = room(t);
  r.admin("on");
  writeFileSync(rolePaths(r.root, "shop", "web").waiter, JSON.stringify({ pid: process.pid, token: "t", sessionId: "s-1" }));
  assert.equal(r.send("web"), `its rewake waiter (pid ${process.pid}, claude session s-1) will wake it now`);
  // A waiter whose process is gone is no driver.
  writeFileSync(rolePaths(r.root, "shop", "web").waiter, JSON.stringify({ pid: 2 ** 22 + 7, token: "t" }));
  assert.match(r.send("web"), /no driver is running for it/);
});

test("the socket driver: through the role's messaging socket; without one, why, or its fallback", async (t) => {
  const r = room(t);
  r.admin("on");
  const lock = acquireDaemonLock(r.root);
  t.after(() => lock.release());
  r.admin("set", "shop", "web", "driver=socket");
  assert.match(r.send("web"), /^not woken automatically: no live Claude Code session holds shop\/web; start one: BRIDGE_PROJECT=shop/);
  // This test process as web's live claude, its socket a real listener.
  const paths = rolePaths(r.root, "shop", "web");
  const socket = join(r.root, "..", "web.sock");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.after(() => server.close());
  registerSession(paths, { pid: process.pid, messagingSocket: join(r.root, "..", "gone.sock") });
  assert.match(r.send("web"), /^not woken automatically: the messaging socket \S+gone\.sock of shop\/web \(pid \d+\) is gone/);
  const cwd = join(r.root, "..", "web-src");
  mkdirSync(cwd);
  r.admin("set", "shop", "web", "fallback=spawn", `cwd=${cwd}`);
  assert.equal(
    r.send("web"),
    `the daemon (pid ${process.pid}) with claude -p in ${cwd} (no usable messaging socket: fallback) will wake it now`,
  );
  registerSession(paths, { pid: process.pid, messagingSocket: socket });
  assert.equal(r.send("web"), `the daemon (pid ${process.pid}) through the messaging socket of claude pid ${process.pid} will wake it now`);
});

test("a wake the daemon already claimed for this very message is its wake, not one still running", (t) => {
  const r = room(t);
  r.admin("on");
  const lock = acquireDaemonLock(r.root);
  t.after(() => lock.release());
  const cwd = join(r.root, "..", "web-src");
  mkdirSync(cwd);
  r.admin("set", "shop", "web", "driver=spawn", `cwd=${cwd}`);
  const paths = rolePaths(r.root, "shop", "web");
  const message: Message = {
    id: newId(),
    ts: new Date().toISOString(),
    project: "shop",
    from: "api",
    to: "web",
    body: "hi",
    chain: "c1",
    hop: 0,
  };
  const forecast = () => forecastWake({ root: r.root, paths, settings: loadSettings(r.root), message });
  // The daemon heard the append first: its claim, in flight, names this message.
  recordWakeDecision(paths, () => ({ wake: true, chain: "c1", hop: 0, ids: [message.id] }), { driver: "spawn", inFlight: true });
  assert.deepEqual(forecast(), {
    woken: true,
    driver: "spawn",
    text: `the daemon (pid ${process.pid}) with claude -p in ${cwd} will wake it now`,
  });
  // A run in flight for earlier mail: this message waits for its follow-up.
  recordWakeDecision(paths, () => ({ wake: true, chain: "c1", hop: 0, ids: [newId()] }), { driver: "spawn", inFlight: true });
  assert.match(forecast().text, /will wake it later .*: a wake for this role is still running/);
});
