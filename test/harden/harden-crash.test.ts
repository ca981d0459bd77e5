// Crash consistency (docs/architecture.md "The store" 1, 2, 3, 5): round after round, writers, consumers and the
// compactions they run are killed with SIGKILL at random instants. After every round an exact audit
// (test/helpers/audit.ts) proves that no acknowledged message was lost, none was delivered twice,
// per-sender order held, the store is readable, and every lock left behind is broken by the next
// taker. A store lives for a few rounds, then is drained and audited one last time.
//   HARDEN_ROUNDS=1000 HARDEN_SEED=<n> node scripts/run-tests.mjs harden-crash
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { receive } from "../../src/bus.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { acquireLock } from "../../src/bus/lock.ts";
import { REPO } from "../helpers/bin.ts";
import { makeRoot } from "../helpers/cli.ts";
import { auditRole, emptyStats, newLedger, roleDirs } from "../helpers/audit.ts";
import type { AuditStats, Ledger } from "../helpers/audit.ts";
import { envInt, rng, seedFromEnv } from "../helpers/prng.ts";
import { startWorker } from "../helpers/worker.ts";
import type { Worker } from "../helpers/worker.ts";
import type { Rng } from "../helpers/prng.ts";

const WORKER = join(REPO, "dist/test/fixtures/crash-worker.mjs");
const PROJECT = "crash";
const RECIPIENTS = ["r0", "r1", "r2"];
const WRITERS = ["w0", "w1", "w2"];
const ROUNDS = envInt("HARDEN_ROUNDS", 18);
const ROUNDS_PER_STORE = 6;
const SEED = seedFromEnv(20261123);

interface Proc extends Worker {
  name: string;
  role: string;
}

function start(args: string[], name: string, role: string): Proc {
  const worker = startWorker(WORKER, args);
  // Named as its receipts name it (see crash-worker.ts), so the audit can match the two.
  return { ...worker, name: `crash worker pid ${worker.pid}`, role, stderr: () => `${name}: ${worker.stderr()}` };
}

interface Totals extends AuditStats {
  rounds: number;
  kills: number;
  writerKills: number;
  consumerKills: number;
  staleLocks: number;
  emptyLocks: number;
  acked: number;
  printed: number;
}

async function round(r: Rng, root: string, ledger: Ledger, totals: Totals): Promise<void> {
  const procs: Proc[] = [];
  // Each writer's messages are tagged with its round, so per-sender order is checked per process.
  for (const w of WRITERS)
    procs.push(
      start(["send", root, PROJECT, w, RECIPIENTS.join(","), String(r.int(1, 2 ** 30)), `${w}.${totals.rounds}`], `writer ${w}`, w),
    );
  for (let i = r.int(1, 4); i > 0; i--) {
    const role = r.pick(RECIPIENTS);
    const compactBytes = r.pick([2048, 8192, 65536]);
    procs.push(start(["recv", root, PROJECT, role, String(compactBytes), String(r.int(1, 2 ** 30))], `consumer of ${role}`, role));
  }
  await Promise.all(procs.map((p) => p.ready));
  const died = procs.filter((p) => !p.stderr().endsWith(": "));
  assert.deepEqual(
    died.map((p) => p.stderr()),
    [],
    `a worker failed on its own (seed ${SEED})`,
  );
  // Each one is killed at its own random instant within the round.
  const span = r.int(30, 400);
  for (const p of procs) setTimeout(() => p.kill(), r.int(0, span));
  await Promise.all(procs.map((p) => p.exited));
  for (const p of procs) {
    for (const line of p.lines) {
      const [kind, id, a, b] = line.split(" ") as [string, string, string, string?];
      if (kind === "ack") {
        ledger.acked.set(id, { to: a, label: b! });
        totals.acked++;
      } else if (kind === "got") {
        ledger.printed.set(id, [...(ledger.printed.get(id) ?? []), { consumer: p.name, role: p.role }]);
        totals.printed++;
      }
    }
  }
  totals.kills += procs.length;
  totals.writerKills += WRITERS.length;
  totals.consumerKills += procs.length - WRITERS.length;
}

/** Checks locks and audits every recipient; fails the test on any problem; returns the store's figures. */
function audit(root: string, ledger: Ledger, when: string): AuditStats & { staleLocks: number; emptyLocks: number } {
  let staleLocks = 0;
  let emptyLocks = 0;
  // Every lock a killed process left is broken at once by the next taker (its holder is dead).
  for (const dir of roleDirs(root, PROJECT)) {
    const lock = join(dir, "lock");
    if (!existsSync(lock)) continue;
    staleLocks++;
    // Killed between creating the lock and signing it: only the waiter's 1 s bound can clear it.
    const empty = readFileSync(lock, "utf8") === "";
    if (empty) emptyLocks++;
    // A signed lock names a dead pid: timeoutMs 0 succeeds only when it is broken at the first look.
    assert.doesNotThrow(
      () => acquireLock(lock, { timeoutMs: empty ? 5000 : 0 }).release(),
      `${when}: the stale lock ${lock} could not be broken (seed ${SEED})`,
    );
  }
  const stats = emptyStats();
  const problems: string[] = [];
  for (const role of RECIPIENTS) problems.push(...auditRole(rolePaths(root, PROJECT, role), ledger, (by) => by, stats));
  assert.deepEqual(problems.slice(0, 20), [], `${when}: ${problems.length} problem(s) (seed ${SEED}; replay with HARDEN_SEED=${SEED})`);
  return { ...stats, staleLocks, emptyLocks };
}

test(`crash loop: ${ROUNDS} rounds of writers, consumers and compactions killed with SIGKILL at random instants lose and duplicate nothing`, async (t) => {
  const r = rng(SEED);
  const totals: Totals = {
    ...emptyStats(),
    rounds: 0,
    kills: 0,
    writerKills: 0,
    consumerKills: 0,
    staleLocks: 0,
    emptyLocks: 0,
    acked: 0,
    printed: 0,
  };
  const began = performance.now();
  let root = "";
  let ledger = newLedger();
  let last: ReturnType<typeof audit> | undefined;
  const endStore = (): void => {
    // Figures that accumulate over a store's life are taken from its last round's audit.
    if (last) for (const k of ["takenUnprinted", "unacked", "abortedReceipts", "tornLines"] as const) totals[k] += last[k];
    // Then a consumer that is not killed drains every role, and nothing may be left unread.
    for (const role of RECIPIENTS) {
      const got = receive({ root, project: PROJECT, role }, { by: "final drain", historyFiles: 1000 });
      for (const m of got.messages) ledger.printed.set(m.id, [...(ledger.printed.get(m.id) ?? []), { consumer: "final drain", role }]);
    }
    const final = audit(root, ledger, "after the final drain of a store");
    assert.equal(final.unread, 0, "the final drain left nothing unread");
    totals.read += final.read;
  };
  for (let i = 0; i < ROUNDS; i++) {
    if (i % ROUNDS_PER_STORE === 0) {
      if (root) endStore();
      root = makeRoot(t);
      ledger = newLedger();
      last = undefined;
    }
    await round(r, root, ledger, totals);
    last = audit(root, ledger, `round ${i + 1}`);
    totals.staleLocks += last.staleLocks;
    totals.emptyLocks += last.emptyLocks;
    totals.rounds++;
  }
  endStore();
  const secs = ((performance.now() - began) / 1000).toFixed(1);
  const summary =
    `crash loop (seed ${SEED}): ${totals.rounds} rounds, ${totals.kills} SIGKILLs survived (${totals.writerKills} writers, ${totals.consumerKills} consumers) in ${secs} s; ` +
    `${totals.acked} messages acknowledged, ${totals.read} delivered exactly once (${totals.printed} printed by killed consumers, the rest by the final drain); ` +
    `${totals.staleLocks} stale locks broken (${totals.emptyLocks} of them empty: killed before signing), ${totals.tornLines} torn lines sealed and skipped, ${totals.abortedReceipts} receipts of consumes killed before their commit, ` +
    `${totals.takenUnprinted} messages taken by a consumer killed before it printed them, ${totals.unacked} written by a writer killed before its ack; ` +
    "no message lost, none delivered twice, order kept";
  t.diagnostic(summary);
  process.stderr.write(summary + "\n");
});
