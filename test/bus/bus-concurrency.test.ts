// Exactly once under concurrency, and no acknowledged loss when writers are killed mid-stream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { readAllKept } from "../../src/bus/inbox.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { receive } from "../../src/bus.ts";
import { REPO } from "../helpers/bin.ts";
import { makeRoot } from "../helpers/cli.ts";

const WORKER = join(REPO, "dist/test/fixtures/bus-worker.mjs");

interface Worker {
  lines: string[];
  exited: Promise<number | null>;
  kill(): void;
}

function worker(t: TestContext, args: string[]): Worker {
  const child = spawn(process.execPath, [WORKER, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    const parts = (partial + d).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`worker ${args[0]} exited ${code}: ${stderr}\n`);
      resolve(code);
    }),
  );
  t.after(() => child.kill("SIGKILL"));
  return { lines, exited, kill: () => child.kill("SIGKILL") };
}

function parse(lines: string[], kind: "ack" | "got"): Array<{ id: string; body: string; from?: string }> {
  return lines
    .filter((l) => l.startsWith(kind + " "))
    .map((l) => {
      const [, id, a, b] = l.split(" ");
      return kind === "ack" ? { id: id!, body: a! } : { id: id!, from: a!, body: b! };
    });
}

function assertPerSenderOrder(bodies: string[], what: string): void {
  const last = new Map<string, number>();
  for (const body of bodies) {
    const [sender, index] = body.split(":");
    const n = Number(index);
    assert.ok(n > (last.get(sender!) ?? -1), `${what}: ${body} came after ${sender}:${last.get(sender!)}`);
    last.set(sender!, n);
  }
}

test("4 writers x 2,000 messages and 3 consumers of one role: each message exactly once, per-sender order kept", async (t) => {
  const root = makeRoot(t);
  const stop = join(root, "..", "stop");
  const consumers = [1, 2, 3].map(() => worker(t, ["recv", root, "shop", "sink", stop, "65536"]));
  const writers = [1, 2, 3, 4].map((n) => worker(t, ["send", root, "shop", `w${n}`, "sink", "2000", `w${n}`]));
  for (const w of writers) assert.equal(await w.exited, 0);
  writeFileSync(stop, "");
  for (const c of consumers) assert.equal(await c.exited, 0);

  const acked = writers.flatMap((w) => parse(w.lines, "ack"));
  assert.equal(acked.length, 8000);
  const received = consumers.flatMap((c) => parse(c.lines, "got"));
  const counts = new Map<string, number>();
  for (const r of received) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
  const duplicates = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(duplicates, [], "no message delivered twice");
  const missing = acked.filter((a) => !counts.has(a.id));
  assert.deepEqual(missing, [], "no acknowledged message lost");
  assert.equal(received.length, 8000);
  assert.ok(consumers.filter((c) => parse(c.lines, "got").length > 0).length >= 2, "consumers really competed");

  for (const c of consumers)
    assertPerSenderOrder(
      parse(c.lines, "got").map((r) => r.body),
      "one consumer's stream",
    );
  const stored = readAllKept(rolePaths(root, "shop", "sink"));
  assert.equal(stored.skipped, 0);
  assertPerSenderOrder(
    stored.messages.map((m) => m.message.body),
    "the store (history + inbox)",
  );
  assert.ok(stored.messages.every((m) => m.read));
});

test("writers killed with SIGKILL mid-stream lose nothing they acknowledged; the store stays readable", async (t) => {
  const root = makeRoot(t);
  const stop = join(root, "..", "stop");
  const consumer = worker(t, ["recv", root, "shop", "sink", stop, "32768"]);
  const writers = [1, 2, 3, 4].map((n) => worker(t, ["send", root, "shop", `k${n}`, "sink", "1000000", `k${n}`]));
  // Kill each writer at a different instant once it is well under way.
  await Promise.all(
    writers.map(async (w, i) => {
      while (parse(w.lines, "ack").length < 200 + i * 150) await new Promise((r) => setTimeout(r, 5));
      w.kill();
      await w.exited;
    }),
  );
  writeFileSync(stop, "");
  assert.equal(await consumer.exited, 0);

  const acked = writers.flatMap((w) => parse(w.lines, "ack"));
  const received = parse(consumer.lines, "got");
  const ids = new Set(received.map((r) => r.id));
  assert.equal(ids.size, received.length, "no duplicates");
  assert.deepEqual(
    acked.filter((a) => !ids.has(a.id)),
    [],
    "every acknowledged message was delivered",
  );
  // A killed writer may have written its last message without living to acknowledge it: that one is
  // delivered too (it is on disk), but nothing that was never written appears.
  assert.ok(received.length - acked.length <= writers.length);
  assertPerSenderOrder(
    received.map((r) => r.body),
    "delivery",
  );

  const paths = rolePaths(root, "shop", "sink");
  assert.doesNotThrow(() => readAllKept(paths));
  assert.equal(existsSync(paths.lock), false, "no lock left behind by the consumer");
  // Any lock a killed writer left is broken for the next taker.
  assert.deepEqual(receive({ root, project: "shop", role: "sink" }, { by: "audit" }).messages, []);
});
