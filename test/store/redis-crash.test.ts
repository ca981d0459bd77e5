// Exactly once, audited: writers send to one role while consumer processes read it and are
// SIGKILLed at random instants, and redis-server itself is SIGKILLed and restarted (recommended
// config: append-only file fsynced before each answer, noeviction, `default` kept on with a
// secret). After the run every acknowledged message was shown at least once, in order per
// consumer, and shown again only when marked redelivered (a consumer died between showing and
// committing it).
//   REDIS_CRASH_ROUNDS=N scales the run (default 6 rounds).
//   REDIS_APPENDFSYNC=everysec runs Redis's default instead, which loses acknowledged sends when
//   the disk is busy (README "Across machines").
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BridgeError } from "../../src/lib/errors.ts";
import { openStore } from "../../src/store/store.ts";
import type { Store } from "../../src/store/store.ts";
import { REPO } from "../helpers/bin.ts";
import { startRedis } from "../helpers/redis.ts";

const CONSUMER = join(REPO, "dist/test/fixtures/redis-consumer.mjs");
const ROUNDS = Number(process.env.REDIS_CRASH_ROUNDS ?? 6);
const LIMITS = { maxBodyBytes: 262144, fsync: false };

interface Consumer {
  child: ChildProcess;
  out: string;
}

test("consumers and redis-server SIGKILLed at random: every acknowledged message shown, repeats only when marked", async (t) => {
  const redis = await startRedis(t, ["--requirepass", "admin-secret", "--maxmemory-policy", "noeviction"], "admin-secret");
  const url = `redis://:admin-secret@127.0.0.1:${redis.port}`;
  const dir = mkdtempSync(join(tmpdir(), "sb-redis-crash-"));
  const stopFile = join(dir, "stop");
  const consumers: Consumer[] = [];
  const finished: Consumer[] = [];
  t.after(() => {
    for (const c of consumers) c.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const startConsumer = (): void => {
    const child = spawn(process.execPath, [CONSUMER, url, "shop", "web", stopFile], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, BRIDGE_REDIS_LEASE_MS: "300" },
    });
    const c: Consumer = { child, out: "" };
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (c.out += d));
    child.stderr!.resume();
    consumers.push(c);
  };
  let store: Store = await openStore("/x", { BRIDGE_URL: url });
  await store.receive({ root: "/x", project: "shop", role: "web" }, { by: "setup", compactBytes: 0, historyFiles: 0 });
  for (let i = 0; i < 3; i++) startConsumer();
  const acked: string[] = [];
  let redisKills = 0;
  let consumerKills = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < 150; i++) {
      try {
        acked.push(
          (
            await store.send({
              identity: { root: "/x", project: "shop", role: "api" },
              to: "web",
              body: `r${round} n${i}`,
              queue: true,
              stamp: { chain: "c", hop: 0 },
              limits: LIMITS,
            })
          ).message.id,
        );
      } catch (err) {
        // Refused while redis-server was down: not acknowledged, so not owed.
        assert.ok(err instanceof BridgeError && err.code === "E_STORE", String(err));
      }
      if (i % 37 === 20) {
        const victim = consumers.splice(Math.floor(Math.random() * consumers.length), 1)[0]!;
        victim.child.kill("SIGKILL");
        finished.push(victim);
        consumerKills++;
        startConsumer();
      }
    }
    if (round % 2 === 1) {
      await store.close();
      await redis.kill9();
      redisKills++;
      await redis.restart();
      store = await openStore("/x", { BRIDGE_URL: url });
    }
  }
  writeFileSync(stopFile, "");
  await Promise.all(consumers.map((c) => new Promise((r) => (c.child.exitCode !== null ? r(null) : c.child.once("exit", r)))));
  await store.close();
  finished.push(...consumers.splice(0));
  const shown = new Map<string, number>();
  let unmarkedRepeats = 0;
  let marked = 0;
  for (const c of finished) {
    for (const line of c.out.split("\n")) {
      const [kind, id, flag] = line.split(" ");
      if (kind !== "D") continue;
      const seen = shown.get(id!) ?? 0;
      if (flag === "1") marked++;
      else if (seen > 0) unmarkedRepeats++;
      shown.set(id!, seen + 1);
    }
  }
  const missing = acked.filter((id) => !shown.has(id));
  assert.deepEqual(missing, [], `${missing.length} acknowledged messages never shown`);
  assert.equal(unmarkedRepeats, 0, "a message shown again without the redelivered mark");
  assert.ok(acked.length >= ROUNDS * 100, `only ${acked.length} sends acknowledged`);
  t.diagnostic(
    `${acked.length} acknowledged, ${consumerKills} consumer kills, ${redisKills} redis-server kills, ${marked} redeliveries marked`,
  );
});
