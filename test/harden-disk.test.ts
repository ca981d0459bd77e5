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

test("a lock whose holder record cannot be written is removed at once, not left to go stale", (t) => {
  const path = `${makeRoot(t)}.lock`;
  const fault = failNth(1, "ENOSPC");
  assert.throws(() => acquireLock(path), (e: unknown) => (e as NodeJS.ErrnoException).code === "ENOSPC");
  fault.restore();
  assert.equal(existsSync(path), false);
  acquireLock(path, { timeoutMs: 50 }).release();
});

