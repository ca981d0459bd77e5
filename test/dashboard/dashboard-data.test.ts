// The dashboard's snapshot, built in-process from a seeded root: what each role shows (live and
// where, mode, unread, wakes and refusals), messages merged across inboxes and history, the
// bounds, and that an unreadable part is named instead of blanking the page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSnapshotter, cut } from "../../src/dashboard/data.ts";
import type { DashboardSnapshot, ProjectView } from "../../src/dashboard/data.ts";
import { appendMessage, consumeUnread } from "../../src/bus/inbox.ts";
import { ensureRoleDir, rolePaths } from "../../src/bus/layout.ts";
import type { Message } from "../../src/bus/message.ts";
import { registerSession } from "../../src/bus/sessions.ts";
import { configureRole, turnOn } from "../../src/settings/ops.ts";
import { createLogger } from "../../src/spawner/state.ts";
import { recordWakeDecision } from "../../src/wake/state.ts";

function withRoot(fn: (root: string) => void): () => void {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-dash-"));
    try {
      fn(join(dir, "root"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

let n = 0;
function msg(from: string, to: string, body: string, extra: Partial<Message> = {}): Message {
  n++;
  const ts = new Date(Date.UTC(2026, 0, 1, 12, 0, n)).toISOString();
  return { id: `m${String(n).padStart(6, "0")}`, ts, project: "shop", from, to, body, chain: "c1", hop: 0, ...extra };
}

// The page's bounds (src/dashboard/data.ts), written out: taken from the module, a bound of 2 or none
// at all would agree with itself.
const MESSAGES_PER_PROJECT = 200;
const BODY_CHARS = 16_000;
const LOG_EVENTS = 80;

const project = (s: DashboardSnapshot, name = "shop"): ProjectView => s.projects.find((p) => p.name === name)!;
const role = (s: DashboardSnapshot, name: string) => project(s).roles.find((r) => r.role === name)!;

test(
  "roles: live and where, mode auto/manual/default-off, unread, last wake and refusal, configured-only roles",
  withRoot((root) => {
    for (const r of ["web", "backend", "infra"]) ensureRoleDir(rolePaths(root, "shop", r));
    registerSession(rolePaths(root, "shop", "web"), { pid: process.pid, tmux: { pane: "%7", socket: "/tmp/tmux-0/default" } });
    turnOn(root);
    configureRole(root, "shop", "backend", { driver: "spawn", cwd: "/srv/api" });
    configureRole(root, "shop", "ghost", { mode: "manual" });
    appendMessage(rolePaths(root, "shop", "web"), msg("backend", "web", "one"));
    appendMessage(rolePaths(root, "shop", "web"), msg("backend", "web", "two"));
    recordWakeDecision(rolePaths(root, "shop", "web"), () => ({ wake: true, chain: "c1", hop: 0, ids: ["m1"] }), {
      driver: "tmux",
      now: Date.UTC(2026, 0, 1),
    });
    recordWakeDecision(
      rolePaths(root, "shop", "web"),
      () => ({ wake: false, code: "hops", reason: "loop guard: chain c1 reached hop 6" }),
      {
        driver: "tmux",
        now: Date.UTC(2026, 0, 2),
      },
    );

    const s = createSnapshotter(root, { admin: false }).snapshot();
    assert.equal(s.admin, false);
    assert.equal(s.automation.enabled, true);
    const web = role(s, "web");
    assert.equal(web.live, true);
    assert.deepEqual(
      web.sessions.map((x) => x.where),
      ["tmux pane %7 (socket /tmp/tmux-0/default)"],
    );
    assert.equal(web.mode, "auto");
    assert.equal(web.auto, true);
    assert.equal(web.unread, 2);
    assert.equal(web.lastWake?.chain, "c1");
    assert.equal(web.lastRefusal?.code, "hops");
    assert.match(web.notWoken ?? "", /^hops at .*loop guard/);
    const backend = role(s, "backend");
    assert.equal(backend.live, false);
    assert.equal(backend.target, "claude -p in /srv/api", "a spawn role shows its cwd");
    assert.equal(role(s, "infra").mode, "default-off");
    assert.equal(role(s, "infra").auto, false);
    assert.match(role(s, "infra").why, /default-off role/);
    const ghost = role(s, "ghost");
    assert.equal(ghost.joined, false, "a role only named in the settings is shown, not joined");
    assert.equal(ghost.mode, "manual");
    configureRole(root, "shop", "infra", { mode: "auto" });
    assert.equal(
      role(createSnapshotter(root, { admin: true }).snapshot(), "infra").mode,
      "auto",
      "named, a default-off role is what it is set to",
    );
  }),
);

test(
  "messages: one entry per id across inboxes and history, recipients with read state, newest first",
  withRoot((root) => {
    const web = rolePaths(root, "shop", "web");
    const backend = rolePaths(root, "shop", "backend");
    const infra = rolePaths(root, "shop", "infra");
    for (const p of [web, backend, infra]) ensureRoleDir(p);
    const first = msg("web", "backend", "to backend", { chain: "cA" });
    appendMessage(backend, first);
    // Compaction moves what backend read into history/: it must still be listed.
    consumeUnread(backend, { by: "test", compactBytes: 1 });
    const broadcast = msg("infra", "*", "to all", { chain: "cB", hop: 2 });
    appendMessage(web, broadcast);
    appendMessage(backend, broadcast);
    consumeUnread(web, { by: "test" });
    const reply = msg("backend", "web", "reply", { replyTo: first.id });
    appendMessage(web, reply);

    const p = project(createSnapshotter(root, { admin: false }).snapshot());
    assert.deepEqual(
      p.messages.map((m) => m.body),
      ["reply", "to all", "to backend"],
    );
    assert.equal(p.totalMessages, 3);
    const b = p.messages[1]!;
    assert.equal(b.to, "*");
    assert.equal(b.hop, 2);
    assert.deepEqual(
      b.recipients.sort((x, y) => x.role.localeCompare(y.role)),
      [
        { role: "backend", read: false },
        { role: "web", read: true },
      ],
    );
    assert.deepEqual(p.messages[2]!.recipients, [{ role: "backend", read: true }], "read, from history");
    assert.equal(p.messages[0]!.replyTo, first.id);
  }),
);

test(
  "bounded: the newest messages per project, long bodies cut (and said so), the newest log events first",
  withRoot((root) => {
    const web = rolePaths(root, "shop", "web");
    ensureRoleDir(web);
    for (let i = 0; i < MESSAGES_PER_PROJECT + 25; i++) appendMessage(web, msg("backend", "web", `n${i}`));
    appendMessage(web, msg("backend", "web", "x".repeat(BODY_CHARS + 500)));
    mkdirSync(join(root, "spawner"), { recursive: true });
    const log = createLogger(root);
    for (let i = 0; i < 100; i++) log({ event: i % 2 ? "wake" : "refused", project: "shop", role: "web", code: "hops", msg: `event ${i}` });

    const s = createSnapshotter(root, { admin: false }).snapshot();
    const p = project(s);
    assert.equal(p.messages.length, MESSAGES_PER_PROJECT);
    assert.equal(p.totalMessages, MESSAGES_PER_PROJECT + 26);
    const long = p.messages[0]!;
    assert.equal(long.body.length, BODY_CHARS);
    assert.equal(long.bodyChars, BODY_CHARS + 500);
    assert.equal(p.messages.at(-1)!.body, "n26", "the oldest are left out");
    assert.equal(s.events.length, LOG_EVENTS, "of the 100 logged, only the newest");
    assert.equal(s.events[0]!.msg, "event 99", "newest first");
    assert.equal(s.events.at(-1)!.msg, `event ${100 - LOG_EVENTS}`);
    assert.deepEqual(Object.keys(s.events[0]!).sort(), ["code", "event", "msg", "project", "role", "ts"]);
    assert.ok(JSON.stringify(s).length < 200 * 1024 + BODY_CHARS * 2, "the snapshot stays small");
  }),
);

test(
  "a repeated snapshot reuses what did not change and sees what did",
  withRoot((root) => {
    const web = rolePaths(root, "shop", "web");
    ensureRoleDir(web);
    appendMessage(web, msg("backend", "web", "a"));
    const snaps = createSnapshotter(root, { admin: false });
    const one = JSON.stringify(snaps.snapshot());
    assert.equal(JSON.stringify(snaps.snapshot()), one);
    appendMessage(web, msg("backend", "web", "b"));
    assert.deepEqual(
      project(snaps.snapshot()).messages.map((m) => m.body),
      ["b", "a"],
    );
    consumeUnread(web, { by: "test" });
    assert.deepEqual(
      project(snaps.snapshot()).messages.map((m) => m.recipients[0]!.read),
      [true, true],
      "a cursor move is seen",
    );
  }),
);

test(
  "an empty or missing root is an empty page; an unreadable part is named, the rest still shown",
  withRoot((root) => {
    const empty = createSnapshotter(root, { admin: false }).snapshot();
    assert.deepEqual(empty.projects, []);
    assert.deepEqual(empty.problems, []);
    assert.equal(empty.daemon.running, false);
    const web = rolePaths(root, "shop", "web");
    ensureRoleDir(web);
    appendMessage(web, msg("backend", "web", "fine"));
    ensureRoleDir(rolePaths(root, "docs", "writer"));
    // A symlink planted as an inbox: the store refuses to follow it.
    symlinkSync("/etc/passwd", rolePaths(root, "docs", "writer").inbox);
    writeFileSync(join(root, "bridge-settings.json"), "{ broken");
    const s = createSnapshotter(root, { admin: false }).snapshot();
    assert.ok(
      s.problems.some((p) => /E_SYMLINK/.test(p)),
      s.problems.join("\n"),
    );
    assert.ok(
      s.problems.some((p) => /reading the messages of docs\/writer: E_SYMLINK/.test(p)),
      s.problems.join("\n"),
    );
    assert.deepEqual(
      project(s).messages.map((m) => m.body),
      ["fine"],
      "the other room is still shown",
    );
    assert.deepEqual(
      project(s, "docs").roles.map((r) => r.role),
      ["writer"],
      "and the bad role is still listed",
    );
    assert.match(s.automation.configError ?? "", /not valid JSON/);
  }),
);

test("cut never ends on half of a surrogate pair", () => {
  assert.equal(cut("abc", 5), "abc");
  assert.equal(cut("ab😀cd", 3), "ab");
  assert.equal(cut("ab😀cd", 4), "ab😀");
});
