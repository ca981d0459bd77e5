// Disk trouble (docs/architecture.md "The store" 1, 2, 5): every write the store makes is failed in turn, with
// ENOSPC and EIO, sometimes after part of the bytes landed. The sender always gets a clear error and
// the inbox is left exactly as it was; a consumer either gets its messages or leaves them unread —
// never a cursor half-moved, never a message taken and lost. EACCES on a read-only inbox is the
// real thing: the built binary run by the inbox's owner after the file was made read-only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, chmodSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { TestContext } from "node:test";
import { messageStatus, peek, receive, sendMessage, tail } from "../../src/bus.ts";
import type { Identity } from "../../src/bus.ts";
import { BridgeError } from "../../src/lib/errors.ts";
import { readCursor } from "../../src/bus/inbox.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { acquireLock } from "../../src/bus/lock.ts";
import { makeRoot } from "../helpers/cli.ts";
import { failNth } from "../helpers/faults.ts";
import type { FaultCode, FaultOptions } from "../helpers/faults.ts";
import { bridgeAs, chownTree, isRoot, NOBODY, traversable } from "../helpers/users.ts";

const CODES: FaultCode[] = ["ENOSPC", "EIO"];

function room(t: TestContext): { root: string; a: Identity; b: Identity } {
  const root = makeRoot(t);
  const a = { root, project: "shop", role: "a" };
  const b = { root, project: "shop", role: "b" };
  receive(b, { by: "setup" });
  receive(a, { by: "setup" });
  return { root, a, b };
}

function send(from: Identity, to: string, body: string, fsync = false) {
  return sendMessage({ identity: from, to, body, stamp: { chain: "cdisk", hop: 0 }, limits: { maxBodyBytes: 1 << 20, fsync } });
}

const bodies = (ms: { body: string }[]) => ms.map((m) => m.body);

/** Runs `step` with the n-th write failing, for n = 1, 2, … until a run no longer reaches the n-th write. */
function everyFailurePoint(
  code: FaultCode,
  options: FaultOptions,
  setup: () => void,
  step: (n: number) => unknown,
  check: (outcome: { error?: unknown; value?: unknown }, where: string) => void,
): number {
  let points = 0;
  for (let n = 1; ; n++) {
    setup();
    const fault = failNth(n, code, options);
    let outcome: { error?: unknown; value?: unknown };
    try {
      outcome = { value: step(n) };
    } catch (error) {
      outcome = { error };
    } finally {
      fault.restore();
    }
    if (!fault.fired) {
      assert.equal(outcome.error, undefined, `the run with no fault failed: ${String(outcome.error)}`);
      return points;
    }
    points++;
    check(outcome, `${code} at write ${n} (${fault.where})`);
  }
}

const LEAVE: Record<string, FaultOptions> = {
  "nothing written": {},
  "half the line written": { leave: (len) => Math.floor(len / 2) },
  // The dangerous one: the whole JSON object landed, only its newline did not.
  "all but the newline written": { leave: (len) => len - 1 },
};

for (const code of CODES) {
  for (const [how, leave] of Object.entries(LEAVE)) {
    test(`send: ${code} at any write (${how}) is a clear error and leaves the inbox exactly as it was`, (t) => {
      let points = 0;
      for (const fsync of [false, true]) {
        let ctx!: ReturnType<typeof room>;
        let before!: Buffer;
        points += everyFailurePoint(
          code,
          leave,
          () => {
            ctx = room(t);
            send(ctx.a, "b", "before");
            before = readFileSync(rolePaths(ctx.root, "shop", "b").inbox);
          },
          () => send(ctx.a, "b", "victim", fsync),
          (outcome, where) => {
            const err = outcome.error;
            assert.ok(err instanceof BridgeError, `${where}: expected a BridgeError, got ${String(err)}`);
            assert.equal(err.code, "E_IO", where);
            assert.match(
              err.message,
              new RegExp(`^message m\\w+ could not be queued for "b" \\(${code}: .*\\); already queued for: nobody$`),
              where,
            );
            const paths = rolePaths(ctx.root, "shop", "b");
            assert.deepEqual(readFileSync(paths.inbox), before, `${where}: the inbox is exactly as it was`);
            assert.equal(existsSync(paths.lock), false, `${where}: no lock left behind`);
            send(ctx.a, "b", "after");
            const got = receive(ctx.b, { by: "t" });
            assert.deepEqual([bodies(got.messages), got.skipped], [["before", "after"], 0], where);
          },
        );
      }
      assert.ok(points >= 4, `only ${points} failure points were reached`);
    });
  }
}

test("send: a failing append after a torn line restores the torn line, which the next send seals and skips", (t) => {
  const { root, a, b } = room(t);
  const paths = rolePaths(root, "shop", "b");
  send(a, "b", "before");
  appendFileSync(paths.inbox, '{"id":"mtorn","bo');
  const torn = readFileSync(paths.inbox);
  const fault = failNth(1, "ENOSPC", { leave: (len) => len - 1 });
  assert.throws(
    () => send(a, "b", "victim"),
    (e: unknown) => e instanceof BridgeError && /ENOSPC/.test(e.message),
  );
  fault.restore();
  assert.deepEqual(readFileSync(paths.inbox), torn);
  send(a, "b", "after");
  const got = receive(b, { by: "t" });
  assert.deepEqual([bodies(got.messages), got.skipped], [["before", "after"], 1]);
});

test("broadcast: a recipient whose inbox fails is named, and the error says who already has it", (t) => {
  const { root, a } = room(t);
  receive({ root, project: "shop", role: "c" }, { by: "setup" });
  // The recipients are written in name order (b, then c): fail the first write of c's append.
  let firstOfC = 0;
  const probe = failNth(Number.MAX_SAFE_INTEGER, "EIO");
  send(a, "b", "count b's writes");
  firstOfC = probe.calls + 1;
  probe.restore();
  const fault = failNth(firstOfC, "EIO");
  assert.throws(
    () => send(a, "*", "to everyone"),
    (e: unknown) =>
      e instanceof BridgeError && e.code === "E_IO" && /could not be queued for "c" \(EIO: .*\); already queued for: b$/.test(e.message),
  );
  fault.restore();
  assert.deepEqual(bodies(peek({ root, project: "shop", role: "b" }).messages), ["count b's writes", "to everyone"]);
  assert.deepEqual(bodies(peek({ root, project: "shop", role: "c" }).messages), []);
});

for (const code of CODES) {
  test(`receive with compaction: ${code} at any write either delivers and commits, or leaves everything unread; never half`, (t) => {
    const N = 30;
    const TAKEN = 20;
    let ctx!: ReturnType<typeof room>;
    let ids: string[] = [];
    let compactFailures = 0;
    const points = everyFailurePoint(
      code,
      { leave: (len) => Math.floor(len / 2) },
      () => {
        ctx = room(t);
        ids = [];
        for (let i = 0; i < N; i++) ids.push(send(ctx.a, "b", `m${i} ${"x".repeat(150)}`).message.id);
        receive(ctx.b, { by: "earlier", accept: (_m, n) => n < TAKEN });
        // A torn tail, so the consume also has a line to seal.
        appendFileSync(rolePaths(ctx.root, "shop", "b").inbox, '{"id":"mtorn"');
      },
      () => receive(ctx.b, { by: "victim", compactBytes: 1024, historyFiles: 2 }),
      (outcome, where) => {
        const paths = rolePaths(ctx.root, "shop", "b");
        const rest = ids.slice(TAKEN);
        const expected = Array.from({ length: N - TAKEN }, (_, i) => `m${TAKEN + i}`);
        assert.equal(existsSync(paths.lock), false, `${where}: no lock left behind`);
        if (outcome.error !== undefined) {
          assert.equal((outcome.error as NodeJS.ErrnoException).code, code, `${where}: the error is the disk's`);
          // Nothing was taken: the cursor did not move, so every message is still unread, and
          // `status` says queued even if the consume's receipt made it to disk.
          assert.deepEqual(
            peek(ctx.b).messages.map((m) => m.body.split(" ")[0]),
            expected,
            where,
          );
          assert.equal(messageStatus(ctx.root, "shop", rest[0]!).recipients[0]!.state, "queued", where);
          const again = receive(ctx.b, { by: "after" });
          assert.deepEqual(
            again.messages.map((m) => m.body.split(" ")[0]),
            expected,
            `${where}: delivered on the next try`,
          );
          assert.deepEqual(
            messageStatus(ctx.root, "shop", rest[0]!).recipients.map((r) => [r.state, r.by]),
            [["read", "after"]],
            where,
          );
        } else {
          const got = outcome.value as ReturnType<typeof receive>;
          assert.deepEqual(
            got.messages.map((m) => m.body.split(" ")[0]),
            expected,
            `${where}: delivered`,
          );
          if (got.compactError !== undefined) {
            compactFailures++;
            assert.match(got.compactError, new RegExp(`^${code}: `), where);
          }
          assert.deepEqual(receive(ctx.b, { by: "after" }).messages, [], `${where}: nothing is delivered twice`);
          assert.deepEqual(
            messageStatus(ctx.root, "shop", rest[0]!).recipients.map((r) => [r.state, r.by]),
            [["read", "victim"]],
            where,
          );
        }
        const kept = tail(ctx.b, 1000).messages;
        assert.equal(new Set(kept.map((m) => m.message.id)).size, kept.length, `${where}: each message kept once`);
        assert.ok(
          ids.every((id) => kept.some((m) => m.message.id === id && m.read)),
          `${where}: all read, none lost`,
        );
        // The store keeps working: the next message is delivered, and a later compaction succeeds.
        send(ctx.a, "b", "later");
        assert.deepEqual(bodies(receive(ctx.b, { by: "after", compactBytes: 1024 }).messages), ["later"], where);
        assert.ok(statSync(paths.inbox).size < 1024, `${where}: compacted`);
        const litter = readdirSync(paths.dir).filter((f) => f.endsWith(".tmp") || f.endsWith(".compact"));
        assert.deepEqual(litter, [], `${where}: no temp files left`);
      },
    );
    assert.ok(points >= 8, `only ${points} failure points were reached`);
    assert.ok(compactFailures >= 3, `compaction failed after the commit only ${compactFailures} times`);
  });
}

test("a lock whose holder record cannot be written is removed at once, not left to go stale", (t) => {
  const path = `${makeRoot(t)}.lock`;
  const fault = failNth(1, "ENOSPC");
  assert.throws(
    () => acquireLock(path),
    (e: unknown) => (e as NodeJS.ErrnoException).code === "ENOSPC",
  );
  fault.restore();
  assert.equal(existsSync(path), false);
  acquireLock(path, { timeoutMs: 50 }).release();
});

test("a compaction that cannot run still delivers: recv prints the messages and warns; hook recv injects them and notes it", (t) => {
  const { root, a } = room(t);
  const paths = rolePaths(root, "shop", "b");
  // A planted link where the history folder goes makes every compaction fail (E_SYMLINK).
  symlinkSync(dirname(root), paths.history);
  writeFileSync(`${root}/bridge-settings.json`, JSON.stringify({ compactBytes: 4096 }));
  for (let i = 0; i < 30; i++) send(a, "b", `m${i} ${"z".repeat(200)}`);
  const env = { BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "b" };
  const recv = bridgeAs(undefined, ["recv", "--json"], env);
  assert.equal(recv.status, 0, recv.stderr);
  assert.equal(JSON.parse(recv.stdout).messages.length, 30);
  assert.match(
    recv.stderr,
    /^warning: the inbox could not be compacted \(E_SYMLINK: refusing to use ".*\/history": it is a symbolic link; .*\); the messages below are delivered, and a later read retries\n$/,
  );
  for (let i = 0; i < 30; i++) send(a, "b", `n${i} ${"z".repeat(200)}`);
  const hook = bridgeAs(
    undefined,
    ["hook", "recv"],
    { ...env, CLAUDECODE: "1" },
    JSON.stringify({ hook_event_name: "UserPromptSubmit", prompt: "hi" }),
  );
  assert.equal(hook.status, 0);
  assert.match(JSON.parse(hook.stdout).hookSpecificOutput.additionalContext, /n0 z+/);
  assert.match(
    hook.stderr,
    /session-bridge hook recv: the inbox could not be compacted \(E_SYMLINK: .*\); the messages are delivered, and a later read retries\n/,
  );
  assert.equal(readdirSync(dirname(root)).length, 1, "nothing was written through the link");
});

test("EACCES: a read-only inbox gives the sender a clear error and the reader its messages untouched", (t) => {
  const { root, a } = room(t);
  send(a, "b", "kept");
  const paths = rolePaths(root, "shop", "b");
  const before = readFileSync(paths.inbox);
  // As root, permissions do not bind us: the store is handed to `nobody`, who then runs the CLI.
  const user = isRoot() ? NOBODY : undefined;
  if (user) {
    traversable(dirname(root));
    chownTree(root, user);
  }
  chmodSync(paths.inbox, 0o400);
  const env = { BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop" };
  const sent = bridgeAs(user, ["send", "b", "refused"], { ...env, BRIDGE_ROLE: "a" });
  assert.equal(sent.status, 1);
  assert.match(
    sent.stderr,
    /^session-bridge send: E_IO: message m\w+ could not be queued for "b" \(EACCES: permission denied, open '.*\/projects\/shop\/b\/inbox\.jsonl'\); already queued for: nobody\n$/,
  );
  const json = bridgeAs(user, ["send", "b", "refused", "--json"], { ...env, BRIDGE_ROLE: "a" });
  assert.equal(JSON.parse(json.stderr).error.code, "E_IO");
  assert.deepEqual(readFileSync(paths.inbox), before);
  // Reading takes the lock and may seal a torn tail, so it needs a writable inbox too: a clear
  // error, and the cursor stays where it was.
  const recv = bridgeAs(user, ["recv"], { ...env, BRIDGE_ROLE: "b" });
  assert.equal(recv.status, 1);
  assert.match(recv.stderr, /^session-bridge recv: EACCES: permission denied, open '.*inbox\.jsonl'\n$/);
  assert.equal(readCursor(paths).offset, 0);
  chmodSync(paths.inbox, 0o600);
  const after = bridgeAs(user, ["recv", "--json"], { ...env, BRIDGE_ROLE: "b" });
  assert.equal(after.status, 0, after.stderr);
  assert.deepEqual(bodies(JSON.parse(after.stdout).messages), ["kept"]);
});

test("EACCES: a read-only role folder is a clear error naming what could not be written; nothing is consumed", (t) => {
  const { root, a } = room(t);
  const sent = send(a, "b", "kept");
  const paths = rolePaths(root, "shop", "b");
  const user = isRoot() ? NOBODY : undefined;
  if (user) {
    traversable(dirname(root));
    chownTree(root, user);
  }
  chmodSync(paths.dir, 0o500);
  const env = { BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "b" };
  const recv = bridgeAs(user, ["recv"], env);
  assert.equal(recv.status, 1);
  assert.match(recv.stderr, /^session-bridge recv: EACCES: permission denied, open '.*\/projects\/shop\/b\/lock'\n$/);
  const status = bridgeAs(user, ["status", sent.message.id, "--json"], env);
  assert.deepEqual(JSON.parse(status.stdout).recipients, [{ role: "b", state: "queued" }]);
  chmodSync(paths.dir, 0o700);
  const after = bridgeAs(user, ["recv", "--json"], env);
  assert.deepEqual(bodies(JSON.parse(after.stdout).messages), ["kept"]);
});
