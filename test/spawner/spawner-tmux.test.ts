// The tmux driver against real tmux on a private socket, with panes running a fake Claude Code TUI
// (test/fixtures/fake-claude-tui.mjs) that takes its mail when a prompt is submitted and can reply.
import { test } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { BIN } from "../helpers/bin.ts";
import { installFixture, ok, readJsonLines, readLog, runDaemon, sandbox, send, waitFor, waitForLog, wakes } from "../helpers/spawner.ts";
import type { Sandbox } from "../helpers/spawner.ts";
import { TmuxServer } from "../helpers/tmux.ts";
import { DEFAULT_NUDGE } from "../../src/settings/schema.ts";
import { isInForeground, isProcessAlive } from "../../src/lib/proc.ts";

interface FixtureEvent {
  event: string;
  pid: number;
  text?: string;
  ids?: string[];
  hops?: number[];
  chains?: string[];
  chain?: string;
  hop?: number;
  pending?: string;
}

interface Rig {
  box: Sandbox;
  tmux: TmuxServer;
  nudge: string;
  /** Starts a fake session for `role` in a new pane; resolves once it has registered. */
  session(role: string, env?: Record<string, string>, command?: string[]): Promise<{ pane: string; log: string }>;
  events(role: string): FixtureEvent[];
}

async function rig(t: TestContext, settings: string[], nudge = DEFAULT_NUDGE, daemonEnv: Record<string, string> = {}): Promise<Rig> {
  const box = sandbox();
  installFixture(box, "fake-claude-tui.mjs");
  const tmux = new TmuxServer(box.dir);
  let daemon: Awaited<ReturnType<typeof runDaemon>> | undefined;
  t.after(async () => {
    await daemon?.stop();
    tmux.kill();
    box.cleanup();
  });
  ok(box, ["spawner", "on"]);
  if (settings.length > 0) ok(box, ["spawner", "config", ...settings]);
  const logOf = (role: string): string => join(box.dir, `${role}.jsonl`);
  const r: Rig = {
    box,
    tmux,
    nudge,
    async session(role, env = {}, command = [join(box.bin, "claude")]) {
      const log = logOf(role);
      const before = readJsonLines<FixtureEvent>(log).filter((e) => e.event === "ready").length;
      const pane = tmux.pane(command, {
        BRIDGE_ROOT: box.root,
        BRIDGE_PROJECT: "shop",
        BRIDGE_ROLE: role,
        FIXTURE_BIN: BIN,
        FIXTURE_LOG: log,
        FIXTURE_NUDGE: nudge,
        PATH: `${box.bin}:${process.env.PATH ?? ""}`,
        ...env,
      });
      if (command[0] === join(box.bin, "claude")) {
        await waitFor(
          `the ${role} session to register`,
          () => readJsonLines<FixtureEvent>(log).filter((e) => e.event === "ready").length > before,
        );
      }
      return { pane, log };
    },
    events: (role) => readJsonLines<FixtureEvent>(logOf(role)),
  };
  daemon = await runDaemon(box, daemonEnv);
  return r;
}

const wokeWith = (r: Rig, role: string): FixtureEvent[] => r.events(role).filter((e) => e.event === "wake");

/** Waits for the role's fake session to have been woken `n` times; on timeout shows both logs. */
function waitWakes(r: Rig, role: string, n: number): Promise<FixtureEvent[]> {
  const show = (): string =>
    [
      ...readLog(r.box).map((e) => `  daemon ${e.event} ${e.project ?? ""}/${e.role ?? ""}: ${e.msg}`),
      ...r.events(role).map((e) => `  ${role} ${JSON.stringify(e)}`),
    ].join("\n");
  return waitFor(`${n} wake(s) of ${role}`, () => wokeWith(r, role).length >= n && wokeWith(r, role), 20_000, show);
}

test("tmux: ping-pong stops at maxHops even when every reply is slower than the cooldown and the rescan; a typed prompt starts a fresh chain", async (t) => {
  const r = await rig(t, ["maxHops=4", "cooldownSeconds=0.2"], DEFAULT_NUDGE, { BRIDGE_SPAWNER_RESCAN_MS: "300" });
  const reply = { FIXTURE_REPLY: "1", FIXTURE_REPLY_DELAY_MS: "700" };
  await r.session("web", reply);
  const backend = await r.session("backend", reply);

  const first = send(r.box, "shop", "web", "backend", "ping");
  const stop1 = await waitForLog(r.box, "the loop guard on chain 1", (e) => e.code === "hops" && e.msg.includes(first.chain), 60_000);
  assert.equal(stop1.role, "backend");
  assert.match(stop1.msg, /reached hop 4 \(maxHops 4\)/);
  assert.deepEqual(
    wakes(r.box).map((w) => [w.role, w.hop]),
    [
      ["backend", 0],
      ["web", 1],
      ["backend", 2],
      ["web", 3],
    ],
  );
  assert.deepEqual(
    wokeWith(r, "backend").map((e) => e.hops),
    [[0], [2]],
  );
  assert.deepEqual(
    wokeWith(r, "web").map((e) => e.hops),
    [[1], [3]],
  );

  // A person types into backend's pane (where the last reply waits): that prompt takes the mail and
  // starts a new chain at hop 0, so the bridge may carry the new exchange again, up to maxHops.
  r.tmux.type(backend.pane, "say web a new question");
  const said = await waitFor("backend to send the typed request", () => r.events("backend").find((e) => e.event === "said"));
  assert.equal(said.hop, 0);
  assert.notEqual(said.chain, first.chain);
  const stop2 = await waitForLog(r.box, "the loop guard on chain 2", (e) => e.code === "hops" && e.msg.includes(said.chain!), 60_000);
  assert.match(stop2.msg, /reached hop 4/);
  assert.equal(wakes(r.box).filter((w) => w.chain === said.chain).length, 4);
  assert.equal(wakes(r.box).length, 8);
});

test("tmux: a wake inside the cooldown is deferred and rescheduled, not stranded", async (t) => {
  // A rescan far away: only the rescheduled timer can deliver the second wake. The cooldown is long
  // enough that a loaded machine still sends the second message inside it.
  const r = await rig(t, ["cooldownSeconds=5"], DEFAULT_NUDGE, { BRIDGE_SPAWNER_RESCAN_MS: "600000" });
  await r.session("backend");
  const m1 = send(r.box, "shop", "web", "backend", "one");
  await waitWakes(r, "backend", 1);
  assert.deepEqual(wokeWith(r, "backend")[0]!.ids, [m1.id]);
  const m2 = send(r.box, "shop", "web", "backend", "two");
  const deferred = await waitForLog(r.box, "the cooldown deferral", (e) => e.event === "deferred" && e.code === "cooldown");
  assert.match(deferred.msg, /retrying at/);
  await waitWakes(r, "backend", 2);
  assert.deepEqual(wokeWith(r, "backend")[1]!.ids, [m2.id]);
  const second = wakes(r.box, "backend")[1]!;
  assert.ok(second.t >= Date.parse(deferred.retryAt as string), "not before the cooldown ended");
});

test("tmux: the rate limit defers a wake with its retry time in status; raising it live delivers the deferred wake", async (t) => {
  const r = await rig(t, ["rateLimitPerMinute=2", "cooldownSeconds=0"]);
  await r.session("backend");
  for (const body of ["one", "two"]) {
    const n = wokeWith(r, "backend").length;
    send(r.box, "shop", "web", "backend", body);
    await waitWakes(r, "backend", n + 1);
  }
  const m3 = send(r.box, "shop", "web", "backend", "three");
  const deferred = await waitForLog(r.box, "the rate deferral", (e) => e.event === "deferred" && e.code === "rate");
  assert.match(deferred.msg, /rate limit: 2 wakes in the last minute \(rateLimitPerMinute 2\)/);
  const status = ok(r.box, ["spawner", "status"]);
  assert.match(status, /not woken: rate at .*rateLimitPerMinute 2\) \(retry at \d{4}-/);
  assert.equal(wokeWith(r, "backend").length, 2);
  ok(r.box, ["spawner", "config", "rateLimitPerMinute=3"]);
  await waitWakes(r, "backend", 3);
  assert.deepEqual(wokeWith(r, "backend")[2]!.ids, [m3.id]);
});

test("tmux: a dead pane or a missing target pane is never typed into, and status says why", async (t) => {
  const r = await rig(t, ["cooldownSeconds=0"]);
  const backend = await r.session("backend");
  const web = await r.session("web");
  const pid = r.events("backend").find((e) => e.event === "ready")!.pid;
  r.tmux.run(["kill-pane", "-t", backend.pane]);
  await waitFor("the backend session to die", () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
  send(r.box, "shop", "web", "backend", "anyone there?");
  const gone = await waitForLog(r.box, "the refusal", (e) => e.role === "backend" && e.code === "no-target");
  assert.match(gone.msg, /no live agent session holds shop\/backend/);
  assert.match(ok(r.box, ["spawner", "status"]), /shop\/backend: auto via tmux → no live session\n {2}not woken: no-target/);

  ok(r.box, ["spawner", "set", "--force", "shop", "web", "tmuxTarget=%99"]);
  send(r.box, "shop", "backend", "web", "hello");
  const missing = await waitForLog(r.box, "the missing pane", (e) => e.role === "web" && e.code === "no-target");
  assert.match(missing.msg, /tmux pane %99 on tmux server .* is gone/);
  assert.equal(r.events("web").filter((e) => e.event === "prompt").length, 0);
  assert.doesNotMatch(r.tmux.capture(web.pane), /session-bridge\]/);
});

test("tmux: a bare shell left in the pane, or a pane running another session, is never typed into", async (t) => {
  const r = await rig(t, ["cooldownSeconds=0"]);
  // A shell, in which the user ran claude, which has since exited: the record's pid is dead.
  const shell = await r.session("backend", {}, ["sh"]);
  const shellPid = Number(r.tmux.info(shell.pane, "#{pane_pid}"));
  r.tmux.type(shell.pane, join(r.box.bin, "claude"));
  await waitFor("the backend session in the shell", () => r.events("backend").some((e) => e.event === "ready"));
  const claude = r.events("backend").find((e) => e.event === "ready")!.pid;
  // Asked of the processes, not of #{pane_current_command}: without /proc, tmux on Linux cannot tell.
  assert.equal(isInForeground(claude), true);
  r.tmux.type(shell.pane, "exit");
  await waitFor("the shell to be back in front", () => !isProcessAlive(claude) && isInForeground(shellPid));
  send(r.box, "shop", "web", "backend", "one");
  const dead = await waitForLog(r.box, "the refusal for the bare shell", (e) => e.role === "backend" && e.code === "no-target");
  assert.match(dead.msg, /no live agent session holds shop\/backend/);

  // A live backend session elsewhere, but the configured target is the bare shell (set first, so
  // the pending mail is never delivered to the new session before the target applies).
  ok(r.box, ["spawner", "set", "--force", "shop", "backend", `tmuxTarget=${shell.pane}`]);
  await r.session("backend");
  send(r.box, "shop", "web", "backend", "two");
  const bare = await waitForLog(
    r.box,
    "the bare-shell refusal",
    (e) => e.role === "backend" && e.code === "no-target" && e.msg.includes('runs "sh"'),
  );
  assert.match(
    bare.msg,
    new RegExp(`tmux pane \\${shell.pane} on tmux server .* runs "sh" \\(pane pid \\d+\\), which is not the live session`),
  );

  // The target runs claude, but not this role's session (a reused pane id, another role's pane).
  const web = await r.session("web");
  ok(r.box, ["spawner", "set", "--force", "shop", "backend", `tmuxTarget=${web.pane}`]);
  send(r.box, "shop", "web", "backend", "three");
  const foreign = await waitForLog(
    r.box,
    "the foreign-pane refusal",
    (e) => e.role === "backend" && e.msg.includes('runs "claude"') && e.msg.includes("not the live session"),
  );
  assert.match(foreign.msg, /runs "claude" \(pane pid \d+\), which is not the live session of shop\/backend \(pid \d+\) nor runs it/);

  assert.doesNotMatch(r.tmux.capture(shell.pane), /session-bridge\]/);
  assert.equal(r.events("web").filter((e) => e.event === "prompt").length, 0);
  assert.equal(wakes(r.box).length, 0);
});

test("tmux: a session suspended in its shell (Ctrl-Z) is never typed into, the shell has the keys; back in front with fg it is woken", async (t) => {
  const r = await rig(t, ["cooldownSeconds=0"]);
  const shell = await r.session("backend", {}, ["sh"]);
  const shellPid = Number(r.tmux.info(shell.pane, "#{pane_pid}"));
  r.tmux.type(shell.pane, join(r.box.bin, "claude"));
  await waitFor("the backend session in the shell", () => r.events("backend").some((e) => e.event === "ready"));
  const claude = r.events("backend").find((e) => e.event === "ready")!.pid;
  // What Ctrl-Z does (the fixture reads the terminal raw, as Claude Code does, so the key is no signal).
  process.kill(claude, "SIGSTOP");
  t.after(() => {
    try {
      process.kill(claude, "SIGCONT");
    } catch {
      // Already gone with its pane.
    }
  });
  await waitFor("the shell back in front", () => isInForeground(shellPid) === true && isInForeground(claude) === false);
  send(r.box, "shop", "web", "backend", "while suspended");
  const refused = await waitForLog(
    r.box,
    "the suspended-session refusal",
    (e) => e.role === "backend" && e.code === "no-target" && e.msg.includes("in the foreground"),
  );
  assert.match(refused.msg, /has "sh" in the foreground, not the claude of shop\/backend \(pid \d+: suspended/);
  assert.equal(isInForeground(claude), false, "still suspended: the refusal was not a race");
  assert.doesNotMatch(r.tmux.capture(shell.pane), /session-bridge\]/);
  assert.equal(wakes(r.box).length, 0);
  // The suspended session left the terminal raw (Claude Code does too), where Enter is "\r", which a
  // shell does not take as the end of a line; C-j is "\n" in any mode.
  r.tmux.run(["send-keys", "-t", shell.pane, "-l", "--", "fg"]);
  r.tmux.run(["send-keys", "-t", shell.pane, "C-j"]);
  await waitWakes(r, "backend", 1);
});

test("tmux: a nudge with ; quotes $ and a trailing ; arrives intact, and a dropped Enter is retried once", async (t) => {
  const nudge = `wake up; "double" 'single' $HOME \\$x {a} #{pane_id} ~ back\\; end;`;
  const r = await rig(t, ["cooldownSeconds=0", `nudgePrompt=${nudge}`], nudge);
  await r.session("backend", { FIXTURE_DROP_ENTERS: "1" });
  const m = send(r.box, "shop", "web", "backend", "body; never typed");
  const [woke] = await waitWakes(r, "backend", 1);
  assert.deepEqual(woke!.ids, [m.id]);
  const prompts = r.events("backend").filter((e) => e.event === "prompt");
  assert.deepEqual(
    prompts.map((p) => p.text),
    [nudge],
    "exactly the nudge, byte for byte, and never the body",
  );
  assert.equal(r.events("backend").find((e) => e.event === "enter-dropped")!.pending, nudge);
  const nudged = await waitForLog(r.box, "the nudge report", (e) => e.event === "nudged");
  assert.match(nudged.msg, /after a second Enter/);
});
