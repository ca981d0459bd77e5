// Disk trouble (DESIGN.md "Storage" 1, 2, 5): every write the store makes is failed in turn, with
// ENOSPC and EIO, sometimes after part of the bytes landed. The sender always gets a clear error and
// the inbox is left exactly as it was; a consumer either gets its messages or leaves them unread —
// never a cursor half-moved, never a message taken and lost. EACCES on a read-only inbox is the
// real thing: the built binary run by the inbox's owner after the file was made read-only.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, chmodSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { TestContext } from "node:test";
import { messageStatus, peek, receive, sendMessage, tail } from "../src/bus.ts";
import type { Identity } from "../src/bus.ts";
import { BridgeError } from "../src/errors.ts";
import { readCursor } from "../src/inbox.ts";
import { rolePaths } from "../src/layout.ts";
import { acquireLock } from "../src/lock.ts";
import { makeRoot } from "./helpers/cli.ts";
import { failNth } from "./helpers/faults.ts";
import type { FaultCode, FaultOptions } from "./helpers/faults.ts";
import { bridgeAs, chownTree, isRoot, NOBODY, traversable } from "./helpers/users.ts";

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
  return sendMessage({ identity: from, to, body, stamp: { chain: "cdisk", hop: 0 }, settings: { maxBodyBytes: 1 << 20, fsync } });
}

const bodies = (ms: { body: string }[]) => ms.map((m) => m.body);

/** Runs `step` with the n-th write failing, for n = 1, 2, … until a run no longer reaches the n-th write. */
function everyFailurePoint(code: FaultCode, options: FaultOptions, setup: () => void, step: (n: number) => unknown, check: (outcome: { error?: unknown; value?: unknown }, where: string) => void): number {
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
            assert.match(err.message, new RegExp(`^message m\\w+ could not be queued for "b" \\(${code}: .*\\); already queued for: nobody$`), where);
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
  assert.throws(() => send(a, "b", "victim"), (e: unknown) => e instanceof BridgeError && /ENOSPC/.test(e.message));
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
    (e: unknown) => e instanceof BridgeError && e.code === "E_IO" && /could not be queued for "c" \(EIO: .*\); already queued for: b$/.test(e.message),
  );
  fault.restore();
  assert.deepEqual(bodies(peek({ root, project: "shop", role: "b" }).messages), ["count b's writes", "to everyone"]);
  assert.deepEqual(bodies(peek({ root, project: "shop", role: "c" }).messages), []);
});

test("a lock whose holder record cannot be written is removed at once, not left to go stale", (t) => {
  const path = `${makeRoot(t)}.lock`;
  const fault = failNth(1, "ENOSPC");
  assert.throws(() => acquireLock(path), (e: unknown) => (e as NodeJS.ErrnoException).code === "ENOSPC");
  fault.restore();
  assert.equal(existsSync(path), false);
  acquireLock(path, { timeoutMs: 50 }).release();
});

