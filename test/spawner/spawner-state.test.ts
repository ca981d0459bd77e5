// The daemon's files and its view of an inbox: the single-instance lock, the saved state, the
// bounded log, run-log pruning, and "what is new" across cursors and compaction.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { appendMessage, consumeUnread } from "../../src/bus/inbox.ts";
import { ensureRoleDir, rolePaths } from "../../src/bus/layout.ts";
import type { RolePaths } from "../../src/bus/layout.ts";
import type { Message } from "../../src/bus/message.ts";
import { BridgeError } from "../../src/lib/errors.ts";
import {
  acquireDaemonLock,
  createLogger,
  loadDaemonState,
  pruneRunLogs,
  readDaemonHolder,
  readRecentLog,
  runLogPath,
  saveDaemonState,
  spawnerPaths,
} from "../../src/spawner/state.ts";
import { allTaken, endPosition, positionIn, readBatch } from "../../src/wake/batch.ts";
import { planSpawn, spawnTargetCheck } from "../../src/spawner/drivers/spawn.ts";
import { defaultSettings, effectiveRole } from "../../src/settings/schema.ts";

function withRoot(fn: (root: string, dir: string) => void): () => void {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-state-"));
    try {
      fn(join(dir, "root"), dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(r.stdout);
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof BridgeError ? err.code : String(err);
  }
  return undefined;
}

test(
  "daemon lock: one holder; a live holder is named; release removes only our own file",
  withRoot((root) => {
    const lock = acquireDaemonLock(root);
    assert.equal(lock.holder.pid, process.pid);
    assert.equal(lock.tookOver, undefined);
    assert.deepEqual(readDaemonHolder(root), { holder: lock.holder, running: true });
    assert.throws(
      () => acquireDaemonLock(root),
      (err: BridgeError) => err.code === "E_LOCKED" && err.message.includes(`pid ${process.pid}`) && err.message.includes("kill "),
    );
    lock.release();
    assert.equal(existsSync(spawnerPaths(root).pid), false);
    assert.deepEqual(readDaemonHolder(root), { running: false });
    const again = acquireDaemonLock(root);
    writeFileSync(spawnerPaths(root).pid, JSON.stringify({ pid: 1, host: "elsewhere", startedAt: "x" }));
    again.release();
    assert.ok(existsSync(spawnerPaths(root).pid), "someone else's lock is left alone");
  }),
);

test(
  "daemon lock: a dead holder's lock is taken over and reported",
  withRoot((root) => {
    mkdirSync(join(root, "spawner"), { recursive: true });
    const dead = { pid: deadPid(), host: hostname(), startedAt: "2026-01-01T00:00:00.000Z" };
    writeFileSync(spawnerPaths(root).pid, JSON.stringify(dead));
    assert.equal(readDaemonHolder(root).running, false);
    const lock = acquireDaemonLock(root);
    assert.deepEqual(lock.tookOver, dead);
    assert.equal(JSON.parse(readFileSync(spawnerPaths(root).pid, "utf8")).pid, process.pid);
    lock.release();
  }),
);

test(
  "daemon lock: an unreadable file is someone starting when fresh, stale when old",
  withRoot((root) => {
    mkdirSync(join(root, "spawner"), { recursive: true });
    const path = spawnerPaths(root).pid;
    writeFileSync(path, "");
    assert.equal(
      code(() => acquireDaemonLock(root)),
      "E_LOCKED",
    );
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    const lock = acquireDaemonLock(root);
    assert.equal(lock.tookOver, "unreadable");
    lock.release();
  }),
);

test(
  "a holder on another host counts as running (its pid cannot be checked from here)",
  withRoot((root) => {
    mkdirSync(join(root, "spawner"), { recursive: true });
    writeFileSync(spawnerPaths(root).pid, JSON.stringify({ pid: deadPid(), host: "another-host", startedAt: "x" }));
    assert.throws(() => acquireDaemonLock(root), /on host another-host.*remove .*daemon\.pid/);
  }),
);

test(
  "daemon state: round-trips, and anything unreadable reads as empty instead of failing",
  withRoot((root) => {
    mkdirSync(join(root, "spawner"), { recursive: true });
    assert.deepEqual(loadDaemonState(root), { positions: {}, runs: {}, lastRuns: {} });
    const state = {
      positions: { "shop/web": { ino: 5, offset: 10 } },
      runs: { "shop/web": { pid: 3, log: "/l", startedAt: "t" } },
      lastRuns: {},
    };
    saveDaemonState(root, state);
    assert.deepEqual(loadDaemonState(root), state);
    writeFileSync(spawnerPaths(root).state, "{garbage");
    assert.deepEqual(loadDaemonState(root), { positions: {}, runs: {}, lastRuns: {} });
    writeFileSync(
      spawnerPaths(root).state,
      JSON.stringify({ positions: { a: { ino: 1, offset: -1 }, b: { ino: 1, offset: 2 }, c: 7 }, runs: [] }),
    );
    assert.deepEqual(loadDaemonState(root), { positions: { b: { ino: 1, offset: 2 } }, runs: {}, lastRuns: {} });
  }),
);

test(
  "log: JSON lines with a sub-millisecond time, mirrored to stderr, rotated past its bound",
  withRoot((root) => {
    mkdirSync(join(root, "spawner"), { recursive: true });
    const lines: string[] = [];
    const log = createLogger(root, { stderr: (l) => lines.push(l), maxBytes: 400 });
    log({ event: "wake", project: "shop", role: "web", msg: "waking" });
    const [entry] = readFileSync(spawnerPaths(root).log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(entry.event, "wake");
    assert.equal(typeof entry.t, "number");
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z wake shop\/web: waking$/);
    for (let i = 0; i < 20; i++) log({ event: "x", msg: "y".repeat(50) });
    assert.ok(existsSync(join(root, "spawner/log.1.jsonl")));
    assert.ok(readFileSync(spawnerPaths(root).log, "utf8").length <= 400 + 200);
    rmSync(join(root, "spawner"), { recursive: true });
    log({ event: "after", msg: "the folder is gone" });
    assert.match(lines.at(-1)!, /log-error: cannot write/);
  }),
);

test(
  "recent log: the newest events across the rotation, oldest first; bad lines and a torn tail skipped",
  withRoot((root) => {
    assert.deepEqual(readRecentLog(root, 10), [], "no log yet reads as none");
    mkdirSync(join(root, "spawner"), { recursive: true });
    const log = createLogger(root, { maxBytes: 600 });
    for (let i = 0; i < 12; i++) log({ event: "wake", project: "shop", role: "web", msg: `event ${i}` });
    assert.ok(existsSync(spawnerPaths(root).rotatedLog), "the log rotated");
    writeFileSync(spawnerPaths(root).log, "not json\n" + '{"event":"x"}\n', { flag: "a" });
    log({ event: "refused", project: "shop", role: "web", code: "hops", msg: "event 12" });
    writeFileSync(spawnerPaths(root).log, '{"event":"torn', { flag: "a" });
    const recent = readRecentLog(root, 4);
    assert.deepEqual(
      recent.map((e) => e.msg),
      ["event 9", "event 10", "event 11", "event 12"],
    );
    assert.equal(recent.at(-1)!.code, "hops");
    assert.match(recent[0]!.ts, /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual(readRecentLog(root, 0), []);
  }),
);

test(
  "recent log: only the end of a large file is read, starting at a whole line",
  withRoot((root) => {
    mkdirSync(join(root, "spawner"), { recursive: true });
    const line = (i: number): string =>
      JSON.stringify({ ts: "2026-01-01T00:00:00.000Z", event: "wake", msg: `event ${i} ${"x".repeat(200)}` }) + "\n";
    writeFileSync(spawnerPaths(root).log, Array.from({ length: 3000 }, (_, i) => line(i)).join(""));
    const recent = readRecentLog(root, 5000);
    assert.ok(recent.length > 500 && recent.length < 3000, `read ${recent.length} events from the end`);
    assert.match(recent.at(-1)!.msg, /^event 2999 /);
    assert.equal(Number(/^event (\d+)/.exec(recent[0]!.msg)![1]), 3000 - recent.length, "every event read is whole and in order");
  }),
);

test(
  "run logs: named by time, project and role; only the newest are kept",
  withRoot((root) => {
    const runs = spawnerPaths(root).runs;
    mkdirSync(runs, { recursive: true });
    assert.equal(runLogPath(root, "shop", "web", Date.parse("2026-01-02T03:04:05.678Z")), join(runs, "20260102T030405.678Z-shop-web.log"));
    for (let i = 0; i < 5; i++) writeFileSync(runLogPath(root, "shop", "web", Date.parse("2026-01-01T00:00:00Z") + i * 1000), "");
    pruneRunLogs(root, 2);
    assert.deepEqual(readdirSync(runs), ["20260101T000003.000Z-shop-web.log", "20260101T000004.000Z-shop-web.log"]);
  }),
);

let seq = 0;
function message(paths: RolePaths, body: string, hop = 0): Message {
  const m: Message = {
    id: `m${++seq}x`,
    ts: new Date().toISOString(),
    project: "shop",
    from: "web",
    to: paths.role,
    body,
    chain: "c1",
    hop,
  };
  appendMessage(paths, m);
  return m;
}

test(
  "batch: complete lines after both the daemon's position and the consumer cursor",
  withRoot((root) => {
    const paths = rolePaths(root, "shop", "backend");
    ensureRoleDir(paths);
    assert.deepEqual(readBatch(paths, undefined).messages, []);
    const a = message(paths, "a");
    const b = message(paths, "b");
    assert.deepEqual(
      readBatch(paths, undefined).messages.map((m) => m.id),
      [a.id, b.id],
    );
    const seenAB = readBatch(paths, undefined).end;
    const c = message(paths, "c");
    assert.deepEqual(
      readBatch(paths, seenAB).messages.map((m) => m.id),
      [c.id],
      "the daemon's position",
    );
    consumeUnread(paths, { by: "test", accept: (_m, n) => n < 3 });
    const d = message(paths, "d");
    assert.deepEqual(
      readBatch(paths, undefined).messages.map((m) => m.id),
      [d.id],
      "the consumer cursor",
    );
    writeFileSync(paths.inbox, readFileSync(paths.inbox, "utf8") + '{"id":"torn"');
    assert.deepEqual(
      readBatch(paths, undefined).messages.map((m) => m.id),
      [d.id],
      "a torn last line is not part of a batch yet",
    );
    assert.equal(allTaken(paths, [d.id]), false);
    consumeUnread(paths, { by: "test" });
    assert.equal(allTaken(paths, [d.id]), true);
  }),
);

test(
  "batch: positions survive compaction (mapped through the cursor's prev), never re-offering considered mail",
  withRoot((root) => {
    const paths = rolePaths(root, "shop", "backend");
    ensureRoleDir(paths);
    for (let i = 0; i < 20; i++) message(paths, `old ${i} ${"x".repeat(200)}`);
    const kept = message(paths, "unread, already considered by the daemon");
    const position = readBatch(paths, undefined).end;
    consumeUnread(paths, { by: "test", accept: (m) => m.id !== kept.id, compactBytes: 4096 });
    const after = readBatch(paths, position);
    assert.notEqual(after.end.ino, position.ino, "compaction replaced the inbox file");
    assert.deepEqual(after.messages, [], "the unread but already considered message is not offered again");
    const fresh = message(paths, "new");
    assert.deepEqual(
      readBatch(paths, position).messages.map((m) => m.id),
      [fresh.id],
    );
    // A position in a file that cannot be mapped falls back to the cursor: unread mail only.
    assert.deepEqual(
      readBatch(paths, { ino: 999_999, offset: 5 }).messages.map((m) => m.id),
      [kept.id, fresh.id],
    );
    assert.equal(positionIn({ ino: 1, offset: 50 }, { ino: 2, offset: 0, prev: { ino: 1, shift: 80 } }, 2), 0, "never negative");
    assert.equal(endPosition(paths).unread, 2);
    assert.equal(endPosition(paths).position.offset, readBatch(paths, undefined).end.offset);
  }),
);

test(
  "spawn plan: no deny flag for an empty deny list; cwd required and checked",
  withRoot((_root, dir) => {
    const settings = { ...defaultSettings(), denyTools: [] };
    const role = { ...effectiveRole(settings, "shop", "web"), cwd: dir };
    const plan = planSpawn({
      root: "/r",
      settings,
      role,
      chain: "c1",
      hop: 2,
      self: ["/bin/sb"],
      env: { PATH: "/bin", BRIDGE_ADMIN: "1" },
    });
    assert.equal(plan.args.includes("--disallowedTools"), false);
    assert.equal(JSON.parse(plan.args[2]!).mcpServers["session-bridge"].command, "/bin/sb");
    assert.deepEqual(JSON.parse(plan.args[2]!).mcpServers["session-bridge"].args, ["mcp"]);
    assert.equal(plan.env.BRIDGE_HOP, "3");
    assert.equal(plan.env.BRIDGE_ADMIN, undefined);
    assert.deepEqual(spawnTargetCheck(role), { ok: true });
    assert.match((spawnTargetCheck({ ...role, cwd: join(dir, "nope") }) as { reason: string }).reason, /cannot be used \(ENOENT/);
    assert.match((spawnTargetCheck({ ...role, cwd: undefined }) as { reason: string }).reason, /no cwd for shop\/web/);
  }),
);
