// The spawn driver end to end: the daemon runs a fake `claude` (first on PATH) that records how it
// was started; the flags, environment, single flight, timeout and loop guard are what a user relies on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN } from "../helpers/bin.ts";
import { createSnapshotter } from "../../src/dashboard/data.ts";
import { installFixture, ok, readJsonLines, runDaemon, sandbox, send, waitFor, waitForLog, wakes } from "../helpers/spawner.ts";
import type { DaemonProc, Sandbox } from "../helpers/spawner.ts";

// Expected values written out, never taken from src/ (agents/tool-names.ts, settings/schema.ts):
// a tool dropped there, or a changed default nudge, must fail here rather than agree with itself.
const TOOL_NAMES = ["send", "recv", "peek", "tail", "wait", "status", "roles", "whoami", "config"];
// Both forms: a run in a config where the plugin is installed also gets the plugin's server.
const BRIDGE_TOOLS = [
  ...TOOL_NAMES.map((t) => `mcp__session-bridge__bridge_${t}`),
  ...TOOL_NAMES.map((t) => `mcp__plugin_session-bridge_session-bridge__bridge_${t}`),
];
const DEFAULT_NUDGE =
  "[session-bridge] New messages from sibling sessions are waiting for you; they are included in this turn's context. Read them and act on them if appropriate.";

interface Start {
  event: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** Every CLAUDE* variable the run got. */
  claude: Record<string, string>;
  stdin: string;
  pid: number;
  grandchild?: number;
}

function setup(roles: string[] = ["backend"]): { box: Sandbox; log: string; cwd: string } {
  const box = sandbox();
  installFixture(box, "fake-claude-p.mjs");
  const cwd = join(box.dir, "work");
  mkdirSync(cwd);
  ok(box, ["spawner", "on"]);
  ok(box, ["spawner", "config", "driver=spawn", "cooldownSeconds=0"]);
  for (const role of roles) ok(box, ["spawner", "set", "--force", "shop", role, `cwd=${cwd}`]);
  return { box, log: join(box.dir, "claude.jsonl"), cwd };
}

async function withDaemon(box: Sandbox, env: Record<string, string>, body: (d: DaemonProc) => Promise<void>): Promise<void> {
  const daemon = await runDaemon(box, env);
  try {
    await body(daemon);
  } finally {
    await daemon.stop();
    box.cleanup();
  }
}

const starts = (log: string): Start[] => readJsonLines<Start>(log).filter((e) => e.event === "start");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("spawn: claude -p gets exactly the bridge flags, the role's env and the nudge on stdin; never BRIDGE_ADMIN or TMUX", async () => {
  const { box, log, cwd } = setup();
  ok(box, ["spawner", "set", "--force", "shop", "backend", "model=opus"]);
  // The daemon itself was started from an admin, tmux, Claude Code shell (its Bash tool): none of
  // that may leak, least of all the other session's messaging socket; the user's own settings may.
  const session = {
    CLAUDECODE: "1",
    CLAUDE_PID: "4242",
    CLAUDE_CODE_SESSION_ID: "s-other",
    CLAUDE_CODE_ENTRYPOINT: "cli",
    CLAUDE_CODE_MESSAGING_SOCKET: join(box.dir, "cc-socks", "4242.sock"),
    CLAUDE_CODE_MESSAGING_TOKEN: "tok",
    CLAUDE_ENV_FILE: join(box.dir, "session-env", "s-other", "sessionstart-hook-0.sh"),
  };
  const env = {
    FIXTURE_LOG: log,
    BRIDGE_ADMIN: "1",
    TMUX: "/tmp/tmux-0/default,1,0",
    TMUX_PANE: "%7",
    ...session,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
  await withDaemon(box, env, async (daemon) => {
    const sent = send(box, "shop", "web", "backend", "please rebuild");
    // What send promised is what happens next.
    const [delivery] = (sent as unknown as { deliveries: { wake: { woken: boolean; driver: string; text: string } }[] }).deliveries;
    assert.deepEqual(delivery!.wake, {
      woken: true,
      driver: "spawn",
      text: `the daemon (pid ${daemon.child.pid}) with claude -p in ${cwd} will wake it now`,
    });
    const [start] = await waitFor("the fake claude to start", () => starts(log).length > 0 && starts(log));
    const mcp = JSON.stringify({
      mcpServers: { "session-bridge": { type: "stdio", command: process.execPath, args: [realpathSync(BIN), "mcp"], env: {} } },
    });
    assert.deepEqual(start!.argv, [
      "-p",
      "--mcp-config",
      mcp,
      "--allowedTools",
      ...BRIDGE_TOOLS,
      "--disallowedTools",
      "Bash(git commit:*)",
      "Bash(git push:*)",
      "Bash(git reset:*)",
      "--permission-mode",
      "acceptEdits",
      "--model",
      "opus",
      "--max-turns",
      "30",
    ]);
    assert.equal(start!.cwd, realpathSync(cwd));
    assert.deepEqual(start!.env, {
      BRIDGE_ROOT: box.root,
      BRIDGE_PROJECT: "shop",
      BRIDGE_ROLE: "backend",
      BRIDGE_CHAIN: sent.chain,
      BRIDGE_HOP: "1",
    });
    for (const name of Object.keys(session)) assert.equal(start!.claude[name], undefined, `the run got ${name}`);
    assert.equal(start!.claude.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC, "1");
    assert.equal(start!.stdin, DEFAULT_NUDGE + "\n");
    const end = await waitForLog(box, "the run's end", (e) => e.event === "run-end");
    assert.match(end.msg, /exit 0/);
    const runLog = end.log as string;
    assert.match(runLog, /\/spawner\/runs\/\d{8}T\d{6}\.\d{3}Z-shop-backend\.log$/);
    assert.match(readFileSync(runLog, "utf8"), /# exit 0 after/);
    const status = JSON.parse(ok(box, ["spawner", "status", "--json"]));
    const backend = status.roles.find((r: { role: string }) => r.role === "backend");
    assert.equal(backend.lastRun.log, runLog);
    assert.equal(backend.inFlightSince, undefined);
    assert.match(
      ok(box, ["spawner", "status"]),
      new RegExp(`last run: exit 0 after [\\d.]+ s, output in ${runLog.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
    );
  });
});

test("spawn: a failed run's last lines are in status and the dashboard's data, escaped, without our own header and footer", async () => {
  const { box, log } = setup();
  await withDaemon(box, { FIXTURE_LOG: log, FIXTURE_MODE: "fail" }, async () => {
    send(box, "shop", "web", "backend", "please rebuild");
    const end = await waitForLog(box, "the run's end", (e) => e.event === "run-end");
    assert.match(end.msg, /exit 1 after/);
    const tail = [
      "starting step 4",
      "starting step 5",
      "starting step 6",
      "\\u{1b}[31mError\\u{1b}[0m: could not reach the account",
      "Not logged in · Please run /login",
    ];
    const status = JSON.parse(ok(box, ["spawner", "status", "--json"]));
    const backend = status.roles.find((r: { role: string }) => r.role === "backend");
    assert.deepEqual(backend.lastRun.tail, tail);
    const snapshot = createSnapshotter(box.root, { admin: false }).snapshot();
    const view = snapshot.projects[0]!.roles.find((r) => r.role === "backend")!;
    assert.deepEqual(view.lastRun?.tail, tail);
    assert.match(
      ok(box, ["spawner", "status"]),
      /\n {2}last run: exit 1 after [\d.]+ s, output in \S+\.log; its last lines:\n {4}\| starting step 4\n(?: {4}\| .*\n){3} {4}\| Not logged in · Please run \/login\n/,
    );
  });
});

test("spawn: permissionMode, denyTools and maxTurns come from the settings", async () => {
  const { box, log } = setup();
  ok(box, ["spawner", "set", "--force", "shop", "backend", "permissionMode=plan"]);
  ok(box, ["spawner", "config", "denyTools=Bash(rm:*)", "spawn.maxTurns=3"]);
  await withDaemon(box, { FIXTURE_LOG: log }, async () => {
    send(box, "shop", "web", "backend", "x");
    const [start] = await waitFor("the fake claude to start", () => starts(log).length > 0 && starts(log));
    const argv = start!.argv;
    assert.deepEqual(argv.slice(argv.indexOf("--disallowedTools")), [
      "--disallowedTools",
      "Bash(rm:*)",
      "--permission-mode",
      "plan",
      "--max-turns",
      "3",
    ]);
  });
});

test("spawn: single flight per role; mail during a run gives exactly one follow-up run for all of it", async () => {
  const { box, log } = setup();
  const release = join(box.dir, "release");
  await withDaemon(box, { FIXTURE_LOG: log, FIXTURE_MODE: "hold", FIXTURE_RELEASE: release }, async () => {
    const m1 = send(box, "shop", "web", "backend", "one");
    await waitFor("run 1", () => starts(log).length === 1);
    const m2 = send(box, "shop", "web", "backend", "two");
    const m3 = send(box, "shop", "web", "backend", "three");
    const busy = await waitForLog(box, "the busy deferral", (e) => e.event === "deferred" && e.code === "busy");
    assert.equal(busy.msg, "busy: a wake for this role is still running; the new mail gets one follow-up when it ends");
    const status = ok(box, ["spawner", "status"]);
    assert.match(status, /run in flight: pid \d+/);
    assert.equal(starts(log).length, 1, "no second run while the first is in flight");
    writeFileSync(release, "");
    await waitFor(
      "two runs to end",
      () => readJsonLines<{ event: string }>(join(box.root, "spawner/log.jsonl")).filter((e) => e.event === "run-end").length === 2,
    );
    const all = wakes(box, "backend");
    assert.equal(all.length, 2);
    assert.deepEqual(all[0]!.ids, [m1.id]);
    assert.deepEqual(all[1]!.ids, [m2.id, m3.id], "one follow-up covering everything that arrived during the run");
    assert.equal(starts(log).length, 2);
  });
});

test("spawn: a run past spawn.timeoutSeconds is killed with its whole process group, and the role is free again", async () => {
  const { box, log } = setup();
  ok(box, ["spawner", "config", "spawn.timeoutSeconds=5"]);
  await withDaemon(box, { FIXTURE_LOG: log, FIXTURE_MODE: "hang" }, async () => {
    send(box, "shop", "web", "backend", "take forever");
    const child = await waitFor("the grandchild", () => readJsonLines<Start>(log).find((e) => e.event === "grandchild"));
    assert.ok(alive(child.grandchild!));
    const end = await waitForLog(box, "the timeout kill", (e) => e.event === "run-end", 30_000);
    assert.equal(end.timedOut, true);
    assert.match(end.msg, /killed after the [\d.]+ s timeout/);
    await waitFor("the grandchild to be gone", () => !alive(child.grandchild!), 10_000);
    assert.match(readFileSync(end.log as string, "utf8"), /# killed after/);
    const status = JSON.parse(ok(box, ["spawner", "status", "--json"]));
    assert.equal(status.roles.find((r: { role: string }) => r.role === "backend").inFlightSince, undefined);
  });
});

test("spawn: ping-pong between two spawned roles stops at maxHops, each run one hop further", async () => {
  const { box, log } = setup(["backend", "web"]);
  ok(box, ["spawner", "config", "maxHops=3"]);
  await withDaemon(box, { FIXTURE_LOG: log, FIXTURE_MODE: "reply" }, async () => {
    const first = send(box, "shop", "web", "backend", "ping");
    const refusal = await waitForLog(box, "the loop guard", (e) => e.event === "refused" && e.code === "hops", 30_000);
    assert.match(refusal.msg, new RegExp(`chain ${first.chain} reached hop 3 \\(maxHops 3\\)`));
    assert.equal(refusal.role, "web");
    const all = wakes(box);
    assert.deepEqual(
      all.map((w) => [w.role, w.hop, w.chain]),
      [
        ["backend", 0, first.chain],
        ["web", 1, first.chain],
        ["backend", 2, first.chain],
      ],
    );
    assert.deepEqual(
      starts(log).map((s) => s.env.BRIDGE_HOP),
      ["1", "2", "3"],
    );
    await waitFor(
      "the last run to end",
      () => readJsonLines<{ event: string }>(join(box.root, "spawner/log.jsonl")).filter((e) => e.event === "run-end").length === 3,
    );
    assert.equal(starts(log).length, 3);
  });
});

test("spawn: claude missing from PATH and no cwd are refusals naming the fix; the daemon survives", async () => {
  const box = sandbox();
  const cwd = join(box.dir, "work");
  mkdirSync(cwd);
  ok(box, ["spawner", "on"]);
  ok(box, ["spawner", "config", "driver=spawn", "cooldownSeconds=0"]);
  ok(box, ["spawner", "set", "--force", "shop", "backend", `cwd=${cwd}`]);
  await withDaemon(box, { PATH: `${box.bin}:/usr/bin:/bin` }, async () => {
    send(box, "shop", "web", "backend", "hello");
    const missing = await waitForLog(box, "no claude", (e) => e.code === "no-target" && e.role === "backend");
    assert.match(
      missing.msg,
      /claude \(the CLI of shop\/backend: no session of the role yet: Claude Code \(set agent=codex\|gemini to choose\)\) is not on the daemon's PATH \(.*\); install it or start the daemon with it on PATH/,
    );
    assert.equal(
      readJsonLines(join(box.root, "spawner/log.jsonl")).filter((e: any) => e.event === "run-start").length,
      0,
      "nothing was started",
    );
    send(box, "shop", "web", "qa-less", "hello");
    const refusal = await waitForLog(box, "no cwd", (e) => e.code === "no-target" && e.role === "qa-less");
    assert.match(refusal.msg, /no cwd for shop\/qa-less.*spawner set shop qa-less cwd=/);
    assert.ok(existsSync(join(box.root, "spawner/daemon.pid")), "the daemon is still running");
  });
});
