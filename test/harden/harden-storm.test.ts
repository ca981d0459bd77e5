// Storms through the real daemon (spawn driver), with a fake `claude -p` that answers every wake
// from its Bash tool (test/fixtures/storm-claude.mjs): a broadcast storm where every role starts by
// broadcasting and every woken run broadcasts again, and a three-role cycle A→B→C→A. Cooldown and
// rate limit are opened wide so that only the loop guard can stop them: it must, at maxHops, with
// no message ever past it. Wake counts are reported.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { peek } from "../../src/bus.ts";
import { readAllKept } from "../../src/bus/inbox.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { installFixture, ok, readJsonLines, readLog, runDaemon, sandbox, send, waitFor } from "../helpers/spawner.ts";
import type { DaemonProc, Sandbox } from "../helpers/spawner.ts";

const MAX_HOPS = 6;

interface Run {
  role: string;
  chain: string;
  hop: number;
  took: { id: string; hop: number }[];
  to?: string;
  sent?: { id: string; chain: string; hop: number };
}

async function stormBox(
  t: TestContext,
  roles: string[],
  env: Record<string, string>,
): Promise<{ box: Sandbox; runs: () => Run[]; daemon: DaemonProc }> {
  const box = sandbox();
  installFixture(box, "storm-claude.mjs");
  const cwd = join(box.dir, "work");
  mkdirSync(cwd);
  ok(box, ["spawner", "on"]);
  ok(box, ["spawner", "config", "driver=spawn", "cooldownSeconds=0", "rateLimitPerMinute=600", `maxHops=${MAX_HOPS}`]);
  for (const role of roles) ok(box, ["spawner", "set", "--force", "shop", role, `cwd=${cwd}`]);
  const log = join(box.dir, "runs.jsonl");
  const daemon = await runDaemon(box, { FIXTURE_LOG: log, ...env });
  t.after(async () => {
    await daemon.stop();
    box.cleanup();
  });
  return { box, runs: () => readJsonLines<Run>(log), daemon };
}

/** Nothing more can happen: no run in flight, and all that is unread sits at the loop guard. */
function quiet(box: Sandbox, roles: string[], runs: () => Run[]): boolean {
  const log = readLog(box);
  const started = log.filter((e) => e.event === "run-start").length;
  const ended = log.filter((e) => e.event === "run-end").length;
  if (started !== ended || runs().length !== ended) return false;
  return roles.every((role) => peek({ root: box.root, project: "shop", role }).messages.every((m) => m.hop >= MAX_HOPS));
}

function allMessages(box: Sandbox, roles: string[]) {
  return roles.flatMap((role) => readAllKept(rolePaths(box.root, "shop", role)).messages.map((s) => ({ role, ...s })));
}

test(`broadcast storm: every role broadcasts and every woken run broadcasts again; the loop guard stops it at maxHops ${MAX_HOPS}`, async (t) => {
  const roles = ["a", "b", "c", "d", "e"];
  const { box, runs } = await stormBox(t, roles, { STORM_TO: "*" });
  // Every role joins first, then each broadcasts once, as a human at a shell (hop 0, a chain each).
  for (const role of roles) ok(box, ["recv", "--project", "shop", "--role", role]);
  const started = roles.map((role) => send(box, "shop", role, "*", `hello from ${role}`));
  await waitFor(
    "the storm to die down at the loop guard",
    () => runs().length > 0 && quiet(box, roles, runs),
    90_000,
    () => `${runs().length} runs so far`,
  );
  const all = allMessages(box, roles);
  const wakes = readLog(box).filter((e) => e.event === "wake");
  const refusals = readLog(box).filter((e) => e.event === "refused" && e.code === "hops");
  assert.equal(Math.max(...all.map((m) => m.message.hop)), MAX_HOPS, "the storm reached the loop guard");
  assert.deepEqual(
    all.filter((m) => m.message.hop > MAX_HOPS),
    [],
    "no message past maxHops",
  );
  assert.ok(
    wakes.every((w) => (w.hop as number) < MAX_HOPS),
    "no wake at or past maxHops",
  );
  assert.ok(refusals.length > 0, "the loop guard refused");
  assert.ok(
    runs().every((r) => r.hop >= 1 && r.hop <= MAX_HOPS),
    "every run carried its waker's hop + 1",
  );
  // Every chain is one of the five a human started.
  const chains = new Set(started.map((s) => s.chain));
  assert.ok(
    all.every((m) => chains.has(m.message.chain)),
    "no chain was invented on the way",
  );
  const perRole = Object.fromEntries(roles.map((r) => [r, wakes.filter((w) => w.role === r).length]));
  const summary = `broadcast storm (5 roles, maxHops ${MAX_HOPS}): ${wakes.length} wakes (${JSON.stringify(perRole)}), ${runs().length} runs, ${all.length} messages stored, highest hop ${MAX_HOPS}, ${refusals.length} loop-guard refusals, then quiet`;
  t.diagnostic(summary);
  process.stderr.write(summary + "\n");
});

test(`a three-role cycle A→B→C→A is woken exactly maxHops (${MAX_HOPS}) times, each one hop further, then stops`, async (t) => {
  const roles = ["a", "b", "c"];
  const { box, runs } = await stormBox(t, roles, { STORM_NEXT: "a:b,b:c,c:a" });
  for (const role of roles) ok(box, ["recv", "--project", "shop", "--role", role]);
  const first = send(box, "shop", "a", "b", "start the cycle");
  await waitFor(
    "the cycle to stop at the loop guard",
    () => readLog(box).some((e) => e.event === "refused" && e.code === "hops") && quiet(box, roles, runs),
    60_000,
  );
  const wakes = readLog(box).filter((e) => e.event === "wake");
  assert.deepEqual(
    wakes.map((w) => [w.role, w.hop, w.chain]),
    [
      ["b", 0, first.chain],
      ["c", 1, first.chain],
      ["a", 2, first.chain],
      ["b", 3, first.chain],
      ["c", 4, first.chain],
      ["a", 5, first.chain],
    ],
  );
  assert.deepEqual(
    runs().map((r) => [r.role, r.hop, r.sent?.hop]),
    [
      ["b", 1, 1],
      ["c", 2, 2],
      ["a", 3, 3],
      ["b", 4, 4],
      ["c", 5, 5],
      ["a", 6, 6],
    ],
  );
  const refusal = readLog(box).find((e) => e.event === "refused" && e.code === "hops")!;
  assert.equal(refusal.role, "b");
  assert.match(refusal.msg, new RegExp(`chain ${first.chain} reached hop ${MAX_HOPS} \\(maxHops ${MAX_HOPS}\\)`));
  assert.deepEqual(
    peek({ root: box.root, project: "shop", role: "b" }).messages.map((m) => m.hop),
    [MAX_HOPS],
    "the last reply waits for a human prompt",
  );
  const summary = `cycle A→B→C→A (maxHops ${MAX_HOPS}): ${wakes.length} wakes, ${runs().length} runs, stopped with the hop-${MAX_HOPS} message unread for b`;
  t.diagnostic(summary);
  process.stderr.write(summary + "\n");
});
