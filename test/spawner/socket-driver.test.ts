// The socket driver against real Unix sockets standing in for Claude Code's messaging socket
// (the real one is in test/e2e/socket.test.ts): where it may write, what it writes, how a wake
// is confirmed, and every way it reports a failure; and the drivers' fallback after a failure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { Server } from "node:net";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nudgeLine, nudgeSocket, resolveSocketTarget } from "../../src/spawner/drivers/socket.ts";
import type { SocketTarget } from "../../src/spawner/drivers/socket.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import type { RolePaths } from "../../src/bus/layout.ts";
import { defaultSettings, effectiveRole, DEFAULT_NUDGE } from "../../src/settings/schema.ts";
import type { EffectiveRole } from "../../src/settings/schema.ts";
import { registerSession } from "../../src/bus/sessions.ts";
import { appendMessage } from "../../src/bus/inbox.ts";
import { processStartTime } from "../../src/lib/proc.ts";
import { promptOrigin } from "../../src/wake/chain.ts";
import { createDrivers, fileSite } from "../../src/spawner/drivers/index.ts";
import type { TargetResult } from "../../src/spawner/drivers/index.ts";
import { readWakeState, recordWakeDecision } from "../../src/wake/state.ts";

const role = (patch: Partial<EffectiveRole> = {}): EffectiveRole => ({ ...effectiveRole(defaultSettings(), "shop", "backend"), ...patch });
const fast = { sleep: () => new Promise<void>((resolve) => setTimeout(resolve, 5)), confirmMs: 300 };

interface Box {
  dir: string;
  paths: RolePaths;
  socket: string;
  registry: string;
}

function withBox(fn: (box: Box) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-sockdrv-"));
    try {
      mkdirSync(join(dir, "config", "sessions"), { recursive: true });
      await fn({
        dir,
        paths: rolePaths(join(dir, "root"), "shop", "backend"),
        socket: join(dir, "s.sock"),
        registry: join(dir, "config", "sessions", `${process.pid}.json`),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** A listener standing in for Claude Code: collects every line written to it. */
async function listen(path: string): Promise<{ server: Server; lines: string[] }> {
  const lines: string[] = [];
  const server = createServer((c) => {
    let buf = "";
    c.on("data", (d) => {
      buf += d;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { server, lines };
}

/** This test process as the role's live claude, with a messaging socket and (optionally) a registry entry. */
function register(box: Box, registry?: Record<string, unknown>): void {
  registerSession(box.paths, { pid: process.pid, messagingSocket: box.socket, claudeRegistry: box.registry });
  if (registry) writeFileSync(box.registry, JSON.stringify(registry));
}

const entry = (box: Box, patch: Record<string, unknown> = {}) => ({
  pid: process.pid,
  messagingSocketPath: box.socket,
  procStart: String(processStartTime(process.pid)),
  status: "idle",
  ...patch,
});

test(
  "resolve: no live session, a session without a socket, a socket file that is gone",
  withBox(async (box) => {
    let check = resolveSocketTarget(box.paths, role());
    assert.equal(check.ok, false);
    assert.match(!check.ok ? check.reason : "", /no live Claude Code session holds shop\/backend; start one: BRIDGE_PROJECT=shop/);
    registerSession(box.paths, { pid: process.pid, attended: true, entrypoint: "cli" });
    check = resolveSocketTarget(box.paths, role());
    assert.match(!check.ok ? check.reason : "", /recorded no Claude Code messaging socket/);
    register(box);
    check = resolveSocketTarget(box.paths, role());
    assert.match(!check.ok ? check.reason : "", /the messaging socket \S+s\.sock of shop\/backend \(pid \d+\) is gone \(.*ENOENT/);
    check = resolveSocketTarget(box.paths, role(), "win32");
    assert.match(!check.ok ? check.reason : "", /needs a Unix socket; on Windows use the tmux or spawn driver/);
  }),
);

test(
  "resolve: Claude Code's registry entry must name the same process and socket, and an idle session",
  withBox(async (box) => {
    const { server } = await listen(box.socket);
    try {
      register(box, entry(box));
      const ok = resolveSocketTarget(box.paths, role());
      assert.ok(ok.ok);
      assert.equal(ok.target.socket, box.socket);
      writeFileSync(box.registry, JSON.stringify(entry(box, { status: "busy" })));
      let check = resolveSocketTarget(box.paths, role());
      assert.match(!check.ok ? check.reason : "", /is busy \(Claude Code's registry says so\); a nudge written now would not start a turn/);
      writeFileSync(box.registry, JSON.stringify(entry(box, { messagingSocketPath: "/elsewhere.sock" })));
      check = resolveSocketTarget(box.paths, role());
      assert.match(
        !check.ok ? check.reason : "",
        /names pid \d+ with socket \/elsewhere\.sock, not the session of shop\/backend .*not writing to it/,
      );
      writeFileSync(box.registry, JSON.stringify(entry(box, { procStart: "1" })));
      check = resolveSocketTarget(box.paths, role());
      assert.match(!check.ok ? check.reason : "", /is of an earlier process with pid \d+; not writing/);
      // No registry entry at all: the live record and the socket decide.
      rmSync(box.registry);
      assert.ok(resolveSocketTarget(box.paths, role()).ok);
    } finally {
      server.close();
    }
  }),
);

test(
  "nudge: one line holding the stamped nudge, never a body; confirmed once the mail is taken",
  withBox(async (box) => {
    const { server, lines } = await listen(box.socket);
    try {
      register(box, entry(box));
      const check = resolveSocketTarget(box.paths, role());
      assert.ok(check.ok);
      const outcome = await nudgeSocket(check.target, DEFAULT_NUDGE, 2, { ...fast, taken: () => lines.length > 0 });
      assert.deepEqual(outcome, { ok: true, detail: `nudged through ${check.target.where}: the session took the mail` });
      assert.equal(lines.length, 1);
      const sent = JSON.parse(lines[0]!);
      assert.equal(sent.type, "user");
      assert.equal(sent.message.role, "user");
      assert.match(sent.message.content, /^\[session-bridge\] New messages .* \(2 messages, wake at \d{4}-\d\d-\d\dT[\d:.]+Z\)$/);
    } finally {
      server.close();
    }
  }),
);

test(
  "nudge: written but no turn took the mail (refused by the session) is a failure that says so; a registry turned busy is a success",
  withBox(async (box) => {
    const { server } = await listen(box.socket);
    try {
      register(box, entry(box));
      const check = resolveSocketTarget(box.paths, role());
      assert.ok(check.ok);
      const outcome = await nudgeSocket(check.target, DEFAULT_NUDGE, 1, { ...fast, taken: () => false });
      assert.equal(outcome.ok, false);
      assert.match(
        outcome.detail,
        /^wrote the nudge to messaging socket .*, but no new turn took the mail within 0 s \(is crossSessionInbound/,
      );
      const busy = await nudgeSocket(check.target, DEFAULT_NUDGE, 1, {
        ...fast,
        taken: () => {
          writeFileSync(box.registry, JSON.stringify(entry(box, { status: "busy", statusUpdatedAt: Date.now() })));
          return false;
        },
      });
      assert.equal(busy.ok, true);
      assert.match(busy.detail, /a turn started \(Claude Code's registry says busy\), the mail is not read yet/);
    } finally {
      server.close();
    }
  }),
);

test(
  "nudge: a stale socket file of a dead session refuses the connection: reported as gone",
  withBox(async (box) => {
    // A process that binds the socket and is killed leaves the file behind, as a crashed claude does.
    const child = spawn(
      process.execPath,
      ["-e", `require("net").createServer().listen(${JSON.stringify(box.socket)}, () => console.log("up"))`],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    const target: SocketTarget = {
      socket: box.socket,
      session: { pid: 1, host: "h", startedAt: "", lastSeen: "", live: true },
      where: `messaging socket ${box.socket} (claude pid 1)`,
    };
    const outcome = await nudgeSocket(target, DEFAULT_NUDGE, 1, { ...fast, taken: () => false });
    assert.equal(outcome.ok, false);
    assert.match(outcome.detail, /^writing the nudge to messaging socket .* failed: .*ECONNREFUSED.* \(the session is gone\)$/);
  }),
);

test("the socket-framed nudge counts as a nudge for the loop guard; another peer message is automated, never human", () => {
  const settings = { nudgePrompt: DEFAULT_NUDGE };
  const line = JSON.parse(nudgeLine(DEFAULT_NUDGE, 1, new Date("2026-12-05T15:00:00.000Z"))).message.content as string;
  const framed = `Another Claude session sent a message:\n${line}\n\nThis came from another Claude session — not typed by your user…`;
  assert.equal(promptOrigin(framed, settings), "nudge");
  assert.equal(promptOrigin(line, settings), "nudge");
  assert.equal(promptOrigin("Another Claude session sent a message:\nplease deploy\n\nThis came from…", settings), "automated");
  // The stamp alone, or the nudge with anything else after it, is not the nudge.
  assert.equal(promptOrigin(`${DEFAULT_NUDGE} and also deploy`, settings), "human");
  assert.equal(promptOrigin(`deploy (1 message, wake at 2026-12-05T15:00:00.000Z)`, settings), "human");
});

/** The daemon's drivers with a logged fallback run (a spawn of `true`) and no real tmux. */
function drivers(box: Box) {
  const entries: Record<string, unknown>[] = [];
  const spawned: string[][] = [];
  const state = { positions: {}, runs: {}, lastRuns: {} };
  // The spawn fallback refuses a CLI that is not on the daemon's PATH: one stands in (never run).
  const bin = join(box.dir, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "claude"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const all = createDrivers({
    root: join(box.dir, "root"),
    env: { PATH: bin },
    now: Date.now,
    state,
    save: () => {},
    log: (e) => entries.push(e),
    socket: fast,
    tmux: { run: async () => ({ code: 1, stdout: "", stderr: "no server running" }), sleep: async () => {} },
    spawnImpl: (command, args, options) => {
      spawned.push([command, ...args]);
      return spawn("true", [], options);
    },
    self: ["/bin/true"],
  });
  return { all, entries, spawned };
}

const order = (box: Box, r: EffectiveRole, target: TargetResult, ended: () => void = () => {}) => ({
  key: "shop/backend",
  site: fileSite(box.paths),
  role: r,
  settings: defaultSettings(),
  decision: { wake: true as const, chain: "c1", hop: 0, ids: ["m1"] },
  target,
  onEnd: ended,
});

test(
  "fallback: no socket hands the wake to the spawn fallback; none says the mail waits; a failing tmux fallback says why",
  withBox(async (box) => {
    registerSession(box.paths, { pid: process.pid, messagingSocket: box.socket });
    const { all, entries, spawned } = drivers(box);
    const viaSpawn = role({ driver: "socket", fallback: "spawn", cwd: box.dir });
    const target = await all.socket.resolve(fileSite(box.paths), viaSpawn);
    assert.ok(target.ok && !target.socket);
    assert.match(target.ok ? (target.socketSkipped ?? "") : "", /is gone/);
    await new Promise<void>((resolve) => void all.socket.wake(order(box, viaSpawn, target, resolve)));
    assert.equal(spawned[0]?.[0], "claude");
    assert.match(
      String(entries.find((e) => e.event === "fallback")?.msg),
      /^socket: the messaging socket .* is gone .*; falling back to the spawn driver$/,
    );
    await all.stopAll();

    // fallback none: resolve reports the socket's reason, and the rails refuse with it.
    const none = role({ driver: "socket" });
    const refused = await all.socket.resolve(fileSite(box.paths), none);
    assert.equal(refused.ok, false);
    assert.match(!refused.ok ? refused.reason : "", /is gone/);

    // fallback tmux with no pane: both reasons, nothing typed.
    const viaTmux = role({ driver: "socket", fallback: "tmux" });
    const both = await all.socket.resolve(fileSite(box.paths), viaTmux);
    assert.match(!both.ok ? both.reason : "", /is gone .*; fallback tmux: the live session of shop\/backend .* is not running inside tmux/);
  }),
);

test(
  "fallback: a nudge no turn takes is reported and, with fallback none, recorded for spawner status",
  withBox(async (box) => {
    const { server } = await listen(box.socket);
    try {
      register(box, entry(box));
      const { all, entries } = drivers(box);
      const r = role({ driver: "socket" });
      const target = await all.socket.resolve(fileSite(box.paths), r);
      assert.ok(target.ok && target.socket);
      const mail = { id: "m1", ts: new Date().toISOString(), project: "shop", from: "web", to: "backend", body: "hi", chain: "c1", hop: 0 };
      appendMessage(box.paths, mail);
      recordWakeDecision(box.paths, () => ({ wake: true, chain: "c1", hop: 0, ids: ["m1"] }), { driver: "socket" });
      await all.socket.wake(order(box, r, target));
      assert.deepEqual(
        entries.map((e) => e.event),
        ["nudge-failed"],
      );
      assert.match(
        readWakeState(box.paths).lastWake?.detail ?? "",
        /^wrote the nudge to messaging socket .*, but no new turn took the mail .*; no fallback driver \(fallback none\): the mail waits for the role's next prompt$/,
      );
    } finally {
      server.close();
    }
  }),
);
