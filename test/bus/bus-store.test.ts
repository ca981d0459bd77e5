// The store's invariants (docs/architecture.md "The store"), attacked directly on disk.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { checkIdentity, messageStatus, pathsOf, peek, receive, sendMessage, tail } from "../../src/bus.ts";
import { followTail } from "../../src/bus/follow.ts";
import type { Identity } from "../../src/bus.ts";
import { listHistory } from "../../src/bus/history.ts";
import { readAllKept, readCursor } from "../../src/bus/inbox.ts";
import { rolePaths, validateName } from "../../src/bus/layout.ts";
import { BridgeError } from "../../src/lib/errors.ts";
import { BIN } from "../helpers/bin.ts";
import { bridge, cleanEnv, makeRoot } from "../helpers/cli.ts";

const SETTINGS = { maxBodyBytes: 262144, fsync: false };

function room(t: TestContext): { root: string; a: Identity; b: Identity } {
  const root = makeRoot(t);
  const a = { root, project: "shop", role: "a" };
  const b = { root, project: "shop", role: "b" };
  receive(b, { by: "setup" });
  return { root, a, b };
}

function send(from: Identity, to: string, body: string) {
  return sendMessage({ identity: from, to, body, stamp: { chain: "c1", hop: 0 }, limits: SETTINGS });
}

test("a torn last line (writer killed mid-write) is sealed by the next writer and skipped once", (t) => {
  const { a, b, root } = room(t);
  send(a, "b", "before");
  const inbox = rolePaths(root, "shop", "b").inbox;
  appendFileSync(inbox, '{"id":"mtorn","ts":"2026-01-01","proj'); // no newline: torn
  send(a, "b", "after");
  const raw = readFileSync(inbox, "utf8");
  assert.match(raw, /"proj\n\{"id"/, "the torn fragment was sealed onto its own line");
  const got = receive(b, { by: "t" });
  assert.deepEqual(
    got.messages.map((m) => m.body),
    ["before", "after"],
  );
  assert.equal(got.skipped, 1);
  assert.equal(tail(b, 10).skipped, 1, "tail reports it");
});

test("a torn tail with no writer after it is sealed by the consumer and reported", (t) => {
  const { a, b, root } = room(t);
  send(a, "b", "one");
  appendFileSync(rolePaths(root, "shop", "b").inbox, '{"id":"mhalf"');
  const got = receive(b, { by: "t" });
  assert.deepEqual(
    got.messages.map((m) => m.body),
    ["one"],
  );
  assert.equal(got.skipped, 1);
  send(a, "b", "two");
  assert.deepEqual(
    receive(b, { by: "t" }).messages.map((m) => m.body),
    ["two"],
  );
});

test("garbage and wrong-shaped lines are skipped and counted, never thrown", (t) => {
  const { a, b, root } = room(t);
  const inbox = rolePaths(root, "shop", "b").inbox;
  send(a, "b", "ok 1");
  appendFileSync(inbox, "not json at all\n" + JSON.stringify({ id: 5, body: [] }) + "\n\u0000\u0001binary\n[]\n");
  send(a, "b", "ok 2");
  const peeked = peek(b);
  assert.deepEqual(
    peeked.messages.map((m) => m.body),
    ["ok 1", "ok 2"],
  );
  assert.equal(peeked.skipped, 4);
  const got = receive(b, { by: "t" });
  assert.equal(got.skipped, 4);
  assert.equal(receive(b, { by: "t" }).skipped, 0, "bad lines before the cursor are not read again");
  const roles = bridge(["tail", "--json"], { root, project: "shop", role: "b" }).json();
  assert.equal(roles.skipped, 4);
});

test("receive reads only what is new: old lines behind the cursor are never parsed again", (t) => {
  const { a, b, root } = room(t);
  for (let i = 0; i < 50; i++) send(a, "b", `old ${i}`);
  receive(b, { by: "t" });
  const cursor = readCursor(rolePaths(root, "shop", "b"));
  assert.equal(cursor.offset, statSync(rolePaths(root, "shop", "b").inbox).size);
  // Corrupt the consumed region: a reader that re-scanned history would now count bad lines.
  const inbox = rolePaths(root, "shop", "b").inbox;
  const bytes = readFileSync(inbox);
  bytes.fill(0x78, 0, 100);
  writeFileSync(inbox, bytes);
  send(a, "b", "new");
  const got = receive(b, { by: "t" });
  assert.deepEqual(
    got.messages.map((m) => m.body),
    ["new"],
  );
  assert.equal(got.skipped, 0);
});

test("partial consumption (accept stops) leaves the rest unread, in order", (t) => {
  const { a, b } = room(t);
  for (let i = 0; i < 5; i++) send(a, "b", `m${i}`);
  const first = receive(b, { by: "t", accept: (_m, taken) => taken < 2 });
  assert.deepEqual(
    first.messages.map((m) => m.body),
    ["m0", "m1"],
  );
  assert.equal(first.remaining, 3);
  assert.deepEqual(
    receive(b, { by: "t" }).messages.map((m) => m.body),
    ["m2", "m3", "m4"],
  );
});

test("compaction moves consumed prefixes to history without losing or re-delivering anything", (t) => {
  const { a, b, root } = room(t);
  const paths = rolePaths(root, "shop", "b");
  const options = { by: "t", compactBytes: 4096, historyFiles: 3 };
  const seen: string[] = [];
  let sent = 0;
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 7; i++) send(a, "b", `n${sent++} ${"x".repeat(60)}`);
    // Leave some unread each time so compaction has a suffix to carry over.
    const got = receive(b, { ...options, accept: (_m, taken) => taken < 5 + (round % 3) });
    seen.push(...got.messages.map((m) => m.body.split(" ")[0]!));
  }
  seen.push(...receive(b, options).messages.map((m) => m.body.split(" ")[0]!));
  assert.deepEqual(
    seen,
    Array.from({ length: sent }, (_, i) => `n${i}`),
  );
  assert.ok(statSync(paths.inbox).size < 4096 + 1024, "the live inbox stays bounded");
  assert.equal(listHistory(paths).length, 3, "history is pruned to historyFiles");
  const kept = readAllKept(paths).messages.map((m) => m.message.body.split(" ")[0]);
  assert.equal(new Set(kept).size, kept.length, "tail lists each message once");
  assert.deepEqual(
    kept,
    [...kept].sort((x, y) => Number(x!.slice(1)) - Number(y!.slice(1))),
  );
  assert.equal(kept.at(-1), `n${sent - 1}`);
});

test("a compaction killed after the rename (cursor not yet rewritten) resumes at the unread suffix", (t) => {
  const { a, b, root } = room(t);
  const paths = rolePaths(root, "shop", "b");
  for (let i = 0; i < 60; i++) send(a, "b", `k${i} ${"y".repeat(80)}`);
  receive(b, { by: "t", compactBytes: 2048, accept: (_m, n) => n < 50 });
  const cursor = readCursor(paths);
  assert.ok(cursor.prev, "compaction ran");
  // Simulate the crash window: the cursor still names the old inode and offset.
  writeFileSync(paths.cursor, JSON.stringify({ ino: cursor.prev!.ino, offset: cursor.prev!.shift }));
  assert.deepEqual(
    receive(b, { by: "t" }).messages.map((m) => m.body.split(" ")[0]),
    Array.from({ length: 10 }, (_, i) => `k${50 + i}`),
  );
});

test("a compaction killed between link and rename leaves a history name for the live file, which is ignored and cleaned", (t) => {
  const { a, b, root } = room(t);
  const paths = rolePaths(root, "shop", "b");
  for (let i = 0; i < 3; i++) send(a, "b", `h${i}`);
  mkdirSync(paths.history, { recursive: true });
  linkSync(paths.inbox, join(paths.history, "000001.jsonl"));
  assert.deepEqual(
    tail(b, 10).messages.map((m) => m.message.body),
    ["h0", "h1", "h2"],
    "no double listing",
  );
  receive(b, { by: "t", compactBytes: 1 });
  const history = listHistory(paths);
  assert.equal(history.length, 1);
  assert.notEqual(statSync(history[0]!.path).ino, statSync(paths.inbox).ino);
  assert.deepEqual(
    tail(b, 10).messages.map((m) => [m.message.body, m.read]),
    [
      ["h0", true],
      ["h1", true],
      ["h2", true],
    ],
  );
});

test("status finds messages in history and reports who read them", (t) => {
  const { a, b, root } = room(t);
  const first = send(a, "b", "old one " + "z".repeat(3000));
  receive(b, { by: "reader one", compactBytes: 1024 });
  for (let i = 0; i < 3; i++) send(a, "b", "filler " + "z".repeat(3000));
  receive(b, { by: "reader two", compactBytes: 1024 });
  assert.ok(listHistory(rolePaths(root, "shop", "b")).length >= 1);
  const status = messageStatus(root, "shop", first.message.id);
  assert.deepEqual(
    status.recipients.map((r) => [r.role, r.state, r.by]),
    [["b", "read", "reader one"]],
  );
});

test("who read a message stays answerable for as long as the message is kept; receipts go with their history", (t) => {
  const { a, b, root } = room(t);
  const paths = rolePaths(root, "shop", "b");
  // 300 reads, each with its own 1 KiB consumer label: 300 KiB of receipts, past the 256 KiB they
  // were once trimmed at, over many compactions, with every history file kept.
  const ids: string[] = [];
  for (let i = 0; i < 300; i++) {
    ids.push(send(a, "b", `message ${i}`).message.id);
    receive(b, { by: `reader ${i} ${"x".repeat(1024)}`, compactBytes: 4096, historyFiles: 1000 });
  }
  assert.ok(listHistory(paths).length >= 10, "compacted many times");
  for (const i of [0, 1, 150, 299]) {
    const status = messageStatus(root, "shop", ids[i]!);
    assert.equal(status.recipients[0]!.by, `reader ${i} ${"x".repeat(1024)}`, `message ${i}`);
  }
  // Pruned history takes its receipts along: the store stays bounded.
  send(a, "b", "z".repeat(5000));
  receive(b, { by: "last reader", compactBytes: 4096, historyFiles: 2 });
  const names = readdirSync(paths.history).sort();
  assert.equal(names.filter((n) => /^\d+\.jsonl$/.test(n)).length, 2, names.join(" "));
  assert.ok(names.filter((n) => /^\d+\.receipts\.jsonl$/.test(n)).length <= 2, names.join(" "));
  assert.throws(
    () => messageStatus(root, "shop", ids[0]!),
    (err) => err instanceof BridgeError && err.code === "E_NOT_FOUND",
  );
});

test("files and folders are private (0700/0600) even under umask 000", (t) => {
  const root = makeRoot(t);
  const run = (args: string[], role: string) =>
    spawnSync("sh", ["-c", `umask 000; exec "${process.execPath}" "${BIN}" "$@"`, "sh", ...args], {
      env: cleanEnv({ BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: role }),
      encoding: "utf8",
    });
  assert.equal(run(["recv"], "b").status, 0);
  assert.equal(run(["send", "b", "hi"], "a").status, 0);
  assert.equal(run(["recv"], "b").status, 0);
  const modes: string[] = [];
  const walk = (p: string): void => {
    const st = lstatSync(p);
    modes.push(`${(st.mode & 0o777).toString(8)} ${st.isDirectory() ? "dir" : "file"} ${p.slice(root.length) || "/"}`);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(root);
  const bad = modes.filter((m) => !(m.startsWith("700 dir") || m.startsWith("600 file")));
  assert.deepEqual(bad, []);
  assert.ok(modes.some((m) => m.endsWith("/inbox.jsonl")) && modes.some((m) => m.endsWith("/cursor.json")));
});

test("symlinks planted in the root are refused, never followed", (t) => {
  const { a, root } = room(t);
  const outside = join(root, "..", "outside");
  mkdirSync(outside);
  // A role folder that is a link elsewhere.
  symlinkSync(outside, join(root, "projects/shop/evil"));
  assert.throws(
    () => send(a, "evil", "x"),
    (e: unknown) => e instanceof BridgeError && e.code === "E_SYMLINK",
  );
  // An inbox that is a link to a file the attacker wants overwritten.
  const victim = join(outside, "victim");
  writeFileSync(victim, "precious");
  const c = rolePaths(root, "shop", "c");
  mkdirSync(c.dir);
  symlinkSync(victim, c.inbox);
  assert.throws(
    () => send(a, "c", "x"),
    (e: unknown) => e instanceof BridgeError && e.code === "E_SYMLINK",
  );
  assert.equal(readFileSync(victim, "utf8"), "precious");
  assert.deepEqual(readdirSync(outside), ["victim"]);
});

test("name rules: letters, digits, . _ - ; 1-64 chars; starting with a letter or digit", () => {
  for (const ok of ["a", "A1", "web-2", "svc.api", "x_y", "9", "a".repeat(64)]) assert.equal(validateName("role", ok), ok);
  for (const bad of ["", ".", "..", "../x", "a/b", "a\\b", "-a", "_a", ".a", "a b", "a".repeat(65), "*", "é", "a\u0000b", "a\n"]) {
    assert.throws(
      () => validateName("role", bad),
      (e: unknown) => e instanceof BridgeError && e.code === "E_BAD_NAME",
      JSON.stringify(bad),
    );
  }
});

test("an identity is checked once per command: joined only when every folder is real and the root private", (t) => {
  const { root, a, b } = room(t);
  const fresh = checkIdentity(a);
  assert.equal(fresh.joined, false, "a has not joined yet: its folder is missing");
  assert.equal(checkIdentity(fresh), fresh, "a checked identity is carried, not checked again");
  send(fresh, "b", "hello");
  assert.equal(checkIdentity(a).joined, true, "sending joined it");
  const checkedB = checkIdentity(b);
  assert.equal(checkedB.joined, true);
  chmodSync(root, 0o755);
  assert.equal(checkIdentity(b).joined, false, "a root open to others is not taken as ready");
  // Receiving then secures the root again, as it did before identities were carried.
  receive(checkIdentity(b), { by: "t" });
  assert.equal(statSync(root).mode & 0o777, 0o700);
  // A link planted after the check is still never written through: the append refuses it.
  const inboxB = rolePaths(root, "shop", "b").inbox;
  rmSync(inboxB);
  symlinkSync(join(root, "elsewhere"), inboxB);
  assert.throws(
    () => send(checkIdentity(a), "b", "through the link?"),
    (e: unknown) => e instanceof BridgeError && e.code === "E_SYMLINK",
  );
  assert.equal(existsSync(join(root, "elsewhere")), false);
});

test("tail --follow goes on from where its history read ended: a message appended in between is printed once", async (t) => {
  const { a, b } = room(t);
  send(a, "b", "history");
  const history = tail(b, 5);
  // Appended after the history was read and before the follower looks: the window the follower must cover.
  send(a, "b", "between");
  const seen: string[] = [];
  const stop = new AbortController();
  const following = followTail(
    pathsOf(b),
    history.end,
    new Set(history.messages.map((s) => s.message.id)),
    (m) => seen.push(m.body),
    stop.signal,
  );
  send(a, "b", "after");
  const deadline = Date.now() + 10_000;
  while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  stop.abort();
  await following;
  assert.deepEqual(seen, ["between", "after"]);
});
