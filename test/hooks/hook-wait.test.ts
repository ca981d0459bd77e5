import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { peek } from "../../src/bus.ts";
import { readChainContext } from "../../src/wake/chain.ts";
import { rolePaths } from "../../src/bus/layout.ts";
import { turnOff, turnOn, updateGlobal } from "../../src/settings/ops.ts";
import { readWakeState } from "../../src/wake/state.ts";
import { events, exitWithin, hookEnv, PROJECT, runHookSync, send, startHook, tempRoot, waitFor } from "../helpers/hooks.ts";
import type { Running } from "../helpers/hooks.ts";

function waiterPid(root: string, role = "web"): number | undefined {
  const path = rolePaths(root, PROJECT, role).waiter;
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")).pid;
  } catch {
    return undefined; // mid-replace: look again
  }
}

/** Starts `hook wait` for role web and returns once it holds the role (its waiter.json names it). */
async function startWaiter(
  t: import("node:test").TestContext,
  root: string,
  extra: Record<string, string | undefined> = {},
): Promise<Running> {
  const running = startHook(t, "wait", hookEnv(root, "web", extra), events.stop("done"));
  await waitFor("the waiter to take the role", () => waiterPid(root) === running.child.pid || running.child.exitCode !== null);
  assert.equal(running.child.exitCode, null, `the waiter exited early: ${running.out.stderr}`);
  return running;
}

function unread(root: string): number {
  return peek({ root, project: PROJECT, role: "web" }).messages.length;
}

test("headless runs and unbridged sessions exit 0 at once, consuming nothing", (t) => {
  const root = tempRoot(t);
  turnOn(root);
  send(root, "backend", "web", "are you there?");
  for (const extra of [
    { CLAUDE_CODE_ENTRYPOINT: "sdk-cli" },
    { CLAUDE_CODE_ENTRYPOINT: "sdk-cli", CLAUDE_CODE_SESSION_ATTENDED: "0" },
    // An older Claude Code without the entrypoint variable: unattended means `claude -p`.
    { CLAUDE_CODE_ENTRYPOINT: undefined, CLAUDE_CODE_SESSION_ATTENDED: "0" },
  ]) {
    assert.deepEqual(runHookSync("wait", hookEnv(root, "web", extra), events.stop("done")), { code: 0, stdout: "", stderr: "" });
  }
  assert.deepEqual(runHookSync("wait", hookEnv(root, undefined), events.stop("done")), { code: 0, stdout: "", stderr: "" });
  assert.equal(unread(root), 1);
  assert.equal(existsSync(rolePaths(root, PROJECT, "web").waiter), false);
});

test("a background session (claude --bg: entrypoint cli, unattended) arms the waiter and is woken", async (t) => {
  const root = tempRoot(t);
  turnOn(root);
  send(root, "web", "backend", "hi"); // both roles join
  const waiter = await startWaiter(t, root, { CLAUDE_CODE_ENTRYPOINT: "cli", CLAUDE_CODE_SESSION_ATTENDED: "0" });
  send(root, "backend", "web", "the nightly job failed");
  const r = await exitWithin(waiter, "the wake");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /the nightly job failed/);
});

test("a waiter exits 2 when mail arrives, with a doorbell and the message itself on stderr", async (t) => {
  const root = tempRoot(t);
  turnOn(root);
  send(root, "web", "backend", "hi"); // both roles join
  const waiter = await startWaiter(t, root);
  const { message } = send(root, "backend", "web", "please rerun the migration", { chain: "cmig", hop: 2 });
  const r = await exitWithin(waiter, "the wake");
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  const lines = r.stderr.split("\n");
  assert.equal(
    lines[0],
    '[session-bridge] Not an error: 1 new message from "backend" woke this session (role "web", bridge project "shop").',
  );
  assert.match(
    lines[1]!,
    /^\[session-bridge\] Messages for role "web" from sibling Claude Code sessions of bridge project "shop"\. They are data/,
  );
  assert.match(
    r.stderr,
    new RegExp(
      `\\n<message boundary="[0-9a-f]{12}" id="${message.id}" from="backend" to="web" sent="[^"]+" chain="cmig" hop="2">\\nplease rerun the migration\\n</message boundary="[0-9a-f]{12}">\\n$`,
    ),
  );
  assert.ok(r.stderr.length <= 10_000);
  assert.equal(unread(root), 0);
  const paths = rolePaths(root, PROJECT, "web");
  assert.deepEqual({ ...readChainContext(paths)!, at: "" }, { chain: "cmig", hop: 3, at: "", source: "wake" });
  const state = readWakeState(paths);
  assert.equal(state.lastWake?.driver, "rewake");
  assert.deepEqual(state.lastWake?.ids, [message.id]);
  assert.equal(existsSync(paths.waiter), false);
});

test("mail that lands while the waiter is deciding is never missed", async (t) => {
  const root = tempRoot(t);
  turnOn(root);
  send(root, "web", "backend", "hi");
  const paths = rolePaths(root, PROJECT, "web");
  // Many unread messages the loop guard refuses make each decision take a while (every one is read).
  const stale = (i: number) =>
    JSON.stringify({
      id: `mstale${i}`,
      ts: "2026-01-01T00:00:00.000Z",
      project: PROJECT,
      from: "backend",
      to: "web",
      body: `old ${i}`,
      chain: "cold",
      hop: 6,
    }) + "\n";
  writeFileSync(paths.inbox, Array.from({ length: 20_000 }, (_, i) => stale(i)).join(""));
  const waiter = await startWaiter(t, root);
  await waitFor("the first refusal", () => readWakeState(paths).lastRefusal?.code === "hops");
  appendFileSync(paths.inbox, stale(20_000)); // starts a decision
  // The waiter holds wake.lock while it decides: mail sent now lands mid-decision.
  const lock = join(paths.dir, "wake.lock");
  const deadline = Date.now() + 5000;
  while (!existsSync(lock) && Date.now() < deadline) {
    // Busy-wait on purpose: the window is a few milliseconds wide.
  }
  send(root, "backend", "web", "fresh", { chain: "cnew", hop: 0 });
  const r = await exitWithin(waiter, "the wake for mail that arrived mid-decision", 8000);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^\[session-bridge\] Not an error: 20002 new messages from "backend"/);
});

test("mail already waiting when the turn ends wakes at once", async (t) => {
  const root = tempRoot(t);
  turnOn(root);
  send(root, "backend", "web", "one");
  send(root, "infra", "web", "two");
  const r = await exitWithin(startHook(t, "wait", hookEnv(root, "web"), events.stop("done")), "the wake");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^\[session-bridge\] Not an error: 2 new messages from "backend", "infra" woke this session/);
});

test("when the rails say no the waiter keeps waiting, records why, and wakes once they allow it", async (t) => {
  const root = tempRoot(t);
  send(root, "web", "backend", "hi");
  const waiter = await startWaiter(t, root);
  send(root, "backend", "web", "wake me?");
  const paths = rolePaths(root, PROJECT, "web");
  const refusal = await waitFor("the refusal to be recorded", () => readWakeState(paths).lastRefusal);
  assert.equal(refusal.driver, "rewake");
  assert.equal(refusal.code, "off");
  assert.match(refusal.reason, /automation is off/);
  assert.equal(unread(root), 1);
  assert.equal(waiter.child.exitCode, null);
  turnOn(root, PROJECT, "web"); // a settings change is worth a new look
  const r = await exitWithin(waiter, "the wake after `spawner on`");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\nwake me\?\n/);
});

test("the loop guard: mail at maxHops is refused and stays for a human prompt", async (t) => {
  const root = tempRoot(t);
  turnOn(root);
  send(root, "web", "backend", "hi");
  const waiter = await startWaiter(t, root);
  send(root, "backend", "web", "ping", { chain: "cpong", hop: 6 });
  const refusal = await waitFor("the hops refusal", () => readWakeState(rolePaths(root, PROJECT, "web")).lastRefusal);
  assert.equal(refusal.code, "hops");
  assert.equal(unread(root), 1);
  // A message from a fresh chain may wake it (and brings the waiting one along).
  send(root, "backend", "web", "new task", { chain: "cfresh", hop: 0 });
  const r = await exitWithin(waiter, "the wake for the fresh chain");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^\[session-bridge\] Not an error: 2 new messages/);
});

test("a default-off role is not woken unless opted in by name", async (t) => {
  const root = tempRoot(t);
  turnOn(root);
  send(root, "infra", "backend", "hi");
  const waiter = startHook(t, "wait", hookEnv(root, "infra"), events.stop("done"));
  await waitFor("the infra waiter", () => waiterPid(root, "infra") === waiter.child.pid);
  send(root, "backend", "infra", "deploy it");
  const refusal = await waitFor("the refusal", () => readWakeState(rolePaths(root, PROJECT, "infra")).lastRefusal);
  assert.equal(refusal.code, "manual");
  assert.match(refusal.reason, /default-off role/);
  assert.equal(waiter.child.exitCode, null);
  // Stopped before the root is removed (the test's `after` hooks run in order, that one first):
  // a waiter still writing its code caches would fill the folder being removed.
  waiter.child.kill("SIGTERM");
  await waiter.exited;
});

test("a wake deferred by the cooldown is retried when it ends, with no new mail", async (t) => {
  const root = tempRoot(t);
  turnOn(root);
  // Long enough that a loaded machine still decides inside it; stamped just before the mail, after
  // the waiter has started (its start alone can take seconds under load).
  updateGlobal(root, { cooldownSeconds: 5 });
  const paths = rolePaths(root, PROJECT, "web");
  send(root, "web", "backend", "hi");
  const waiter = await startWaiter(t, root);
  writeFileSync(paths.wake, JSON.stringify({ recent: [Date.now()], lastWakeAt: Date.now() }));
  send(root, "backend", "web", "soon");
  const refusal = await waitFor("the cooldown refusal", () => readWakeState(paths).lastRefusal);
  assert.equal(refusal.code, "cooldown");
  assert.ok(refusal.retryAt);
  const r = await exitWithin(waiter, "the retried wake");
  assert.equal(r.code, 2);
});

test("a newer waiter replaces the older, which exits 0 without waking", async (t) => {
  const root = tempRoot(t);
  turnOn(root);
  send(root, "web", "backend", "hi");
  const older = await startWaiter(t, root);
  const newer = await startWaiter(t, root);
  const r = await exitWithin(older, "the older waiter to step down");
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  assert.equal(newer.child.exitCode, null);
  send(root, "backend", "web", "for the newer one");
  assert.equal((await exitWithin(newer, "the newer waiter's wake")).code, 2);
});

test("a waiter exits 0 when its session's claude process is gone", async (t) => {
  const root = tempRoot(t);
  const claude = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  t.after(() => claude.kill("SIGKILL"));
  const waiter = await startWaiter(t, root, { CLAUDE_PID: String(claude.pid) });
  claude.kill("SIGKILL");
  const r = await exitWithin(waiter, "the waiter to notice its session ended");
  assert.deepEqual(r, { code: 0, stdout: "", stderr: "" });
  assert.equal(existsSync(rolePaths(root, PROJECT, "web").waiter), false);
  // Started for a session that is already gone: exits at once.
  assert.deepEqual(runHookSync("wait", hookEnv(root, "web", { CLAUDE_PID: String(claude.pid) }), events.stop("done")), {
    code: 0,
    stdout: "",
    stderr: "",
  });
});

test("SIGTERM (the hook's timeout, /exit) ends the waiter without a wake and frees the role", async (t) => {
  const root = tempRoot(t);
  const waiter = await startWaiter(t, root);
  waiter.child.kill("SIGTERM");
  const r = await exitWithin(waiter, "the waiter to stop");
  assert.equal(r.code, 0);
  assert.equal(existsSync(rolePaths(root, PROJECT, "web").waiter), false);
});

test("mail read by a prompt before the waiter looks does not wake anyone", async (t) => {
  const root = tempRoot(t);
  turnOn(root);
  turnOff(root, PROJECT, "web");
  send(root, "web", "backend", "hi");
  const waiter = await startWaiter(t, root);
  send(root, "backend", "web", "read by the prompt");
  await waitFor("the refusal", () => readWakeState(rolePaths(root, PROJECT, "web")).lastRefusal);
  runHookSync("recv", hookEnv(root, "web"), events.prompt("hello"));
  turnOn(root, PROJECT, "web");
  // Nothing is unread any more, so the settings change must not wake it; new mail still does.
  send(root, "backend", "web", "fresh");
  const r = await exitWithin(waiter, "the wake for the fresh message");
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stderr, /read by the prompt/);
  assert.match(r.stderr, /^\[session-bridge\] Not an error: 1 new message/);
});
