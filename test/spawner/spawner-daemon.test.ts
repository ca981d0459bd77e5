// The daemon's own promises, with the spawn driver and a fake `claude` as the thing being woken:
// opt-in only, live config (including a broken one), one daemon per root, takeover after a crash,
// --replay, bad inbox data, and a clean stop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  cli,
  installFixture,
  ok,
  readJsonLines,
  readLog,
  runDaemon,
  sandbox,
  send,
  startDaemon,
  waitFor,
  waitForLog,
  wakes,
} from "../helpers/spawner.ts";
import type { DaemonProc, Sandbox } from "../helpers/spawner.ts";

function setup(): { box: Sandbox; log: string; cwd: string; env: Record<string, string> } {
  const box = sandbox();
  installFixture(box, "fake-claude-p.mjs");
  const cwd = join(box.dir, "work");
  mkdirSync(cwd);
  const log = join(box.dir, "claude.jsonl");
  return { box, log, cwd, env: { FIXTURE_LOG: log } };
}

function spawnRoles(box: Sandbox, cwd: string, roles: string[]): void {
  ok(box, ["spawner", "config", "driver=spawn", "cooldownSeconds=0"]);
  for (const role of roles) ok(box, ["spawner", "set", "--force", "shop", role, `cwd=${cwd}`]);
}

/** Runs `body`, then stops every daemon `daemons()` names (read at the end: some start inside) and cleans up. */
async function using(box: Sandbox, daemons: () => Array<DaemonProc | undefined>, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } finally {
    for (const d of daemons()) await d?.stop();
    box.cleanup();
  }
}

const runs = (log: string): Array<{ env: Record<string, string> }> =>
  readJsonLines<{ event: string; env: Record<string, string> }>(log).filter((e) => e.event === "start");

test("daemon: out of the box nothing is woken, and the log and status say how to turn it on", async () => {
  const { box, cwd, log, env } = setup();
  ok(box, ["spawner", "set", "--force", "shop", "backend", `cwd=${cwd}`, "driver=spawn"]);
  const daemon = await runDaemon(box, env);
  await using(
    box,
    () => [daemon],
    async () => {
      send(box, "shop", "web", "backend", "hello");
      const refusal = await waitForLog(box, "the refusal", (e) => e.event === "refused" && e.role === "backend");
      assert.equal(refusal.code, "off");
      assert.match(refusal.msg, /automation is off.*session-bridge spawner on/);
      assert.match(ok(box, ["spawner", "status"]), /shop\/backend: manual via spawn → claude -p in .*\n {2}not woken: automation is off/);
      assert.equal(runs(log).length, 0);
    },
  );
});

test("daemon: infra and qa are never woken under a global or project opt-in, only once named", async () => {
  const { box, cwd, log, env } = setup();
  ok(box, ["spawner", "on"]);
  ok(box, ["spawner", "on", "--force", "shop"]);
  spawnRoles(box, cwd, ["infra", "qa", "web"]);
  const daemon = await runDaemon(box, env);
  await using(
    box,
    () => [daemon],
    async () => {
      for (const role of ["infra", "qa"]) {
        send(box, "shop", "backend", role, "deploy it");
        const refusal = await waitForLog(box, `${role}'s refusal`, (e) => e.role === role && e.event === "refused");
        assert.equal(refusal.code, "manual");
        assert.match(refusal.msg, new RegExp(`"${role}" is a default-off role; opt it in by name: session-bridge spawner on shop ${role}`));
      }
      send(box, "shop", "backend", "web", "hello");
      await waitFor("web's run", () => runs(log).some((r) => r.env.BRIDGE_ROLE === "web"));
      assert.ok(!runs(log).some((r) => r.env.BRIDGE_ROLE === "infra" || r.env.BRIDGE_ROLE === "qa"));
      ok(box, ["spawner", "on", "--force", "shop", "infra"]);
      send(box, "shop", "backend", "infra", "now deploy");
      await waitFor("infra's run", () => runs(log).some((r) => r.env.BRIDGE_ROLE === "infra"));
      assert.ok(!runs(log).some((r) => r.env.BRIDGE_ROLE === "qa"));
    },
  );
});

test("daemon: spawner off takes effect live, and on again resumes", async () => {
  const { box, cwd, log, env } = setup();
  ok(box, ["spawner", "on"]);
  spawnRoles(box, cwd, ["backend"]);
  const daemon = await runDaemon(box, env);
  await using(
    box,
    () => [daemon],
    async () => {
      send(box, "shop", "web", "backend", "one");
      await waitFor("run 1", () => runs(log).length === 1);
      ok(box, ["spawner", "off"]);
      send(box, "shop", "web", "backend", "two");
      const refusal = await waitForLog(box, "the refusal after off", (e) => e.event === "refused" && e.code === "off");
      assert.equal(refusal.role, "backend");
      ok(box, ["spawner", "off", "--force", "shop", "backend"]);
      ok(box, ["spawner", "on"]);
      send(box, "shop", "web", "backend", "three");
      await waitForLog(box, "the manual refusal", (e) => e.event === "refused" && e.code === "manual");
      ok(box, ["spawner", "on", "--force", "shop", "backend"]);
      const four = send(box, "shop", "web", "backend", "four");
      await waitFor("run 2", () => runs(log).length === 2);
      assert.deepEqual(wakes(box, "backend").at(-1)!.ids, [four.id], "mail refused while off is not woken for later");
    },
  );
});

test("daemon: a corrupt settings file is logged once and survived with the last good settings", async () => {
  const { box, cwd, log, env } = setup();
  ok(box, ["spawner", "on"]);
  spawnRoles(box, cwd, ["backend"]);
  const daemon = await runDaemon(box, env);
  await using(
    box,
    () => [daemon],
    async () => {
      const config = join(box.root, "bridge-settings.json");
      const good = readFileSync(config, "utf8");
      // Replaced whole (temp + rename), as an editor saves: writeFileSync truncates first, and a
      // daemon that reads in that instant rightly reports an empty file, a third distinct error.
      const replace = (text: string): void => {
        writeFileSync(`${config}.tmp`, text);
        renameSync(`${config}.tmp`, config);
      };
      replace("{ this is not json");
      send(box, "shop", "web", "backend", "one");
      send(box, "shop", "web", "backend", "two");
      const error = await waitForLog(box, "the config error", (e) => e.event === "config-error");
      assert.match(error.msg, /bridge-settings\.json is not valid JSON.*keeping the last good settings/);
      await waitFor("a run with the last good settings", () => runs(log).length >= 1);
      replace(JSON.stringify({ enabled: true, maxHops: "six" }));
      await waitForLog(box, "the second, different error", (e) => e.event === "config-error" && /maxHops/.test(e.msg));
      replace(good);
      await waitForLog(box, "recovery", (e) => e.event === "config-ok");
      assert.equal(readLog(box).filter((e) => e.event === "config-error").length, 2, "each distinct error once");
      assert.match(ok(box, ["spawner", "status"]), /daemon: running/);
    },
  );
});

test("daemon: an empty settings file is an error only if it stays empty; meanwhile the last good settings hold", async () => {
  const { box, cwd, log, env } = setup();
  ok(box, ["spawner", "on"]);
  spawnRoles(box, cwd, ["backend"]);
  const daemon = await runDaemon(box, env);
  await using(
    box,
    () => [daemon],
    async () => {
      writeFileSync(join(box.root, "bridge-settings.json"), "");
      send(box, "shop", "web", "backend", "one");
      await waitFor("a run with the last good settings (automation still on)", () => runs(log).length >= 1);
      send(box, "shop", "web", "backend", "two");
      const error = await waitForLog(box, "the empty file reported once it stays empty", (e) => e.event === "config-error");
      assert.match(error.msg, /bridge-settings\.json is empty; write \{\} for the defaults, or delete it; keeping the last good settings/);
    },
  );
});

test("daemon: a second daemon for the same root is refused, naming the first", async () => {
  const { box, env } = setup();
  const first = await runDaemon(box, env);
  await using(
    box,
    () => [first],
    async () => {
      const second = startDaemon(box, env);
      const code = await second.exited;
      assert.equal(code, 1);
      assert.match(
        second.stderr(),
        new RegExp(
          `E_LOCKED: a spawner daemon is already running for .* \\(pid ${first.child.pid}, since .*\\); only one may run per root`,
        ),
      );
      assert.match(ok(box, ["spawner", "status"]), new RegExp(`daemon: running \\(pid ${first.child.pid}`));
    },
  );
});

test("daemon: a killed daemon's lock is taken over, and its positions kept for --replay", async () => {
  const { box, cwd, log, env } = setup();
  ok(box, ["spawner", "on"]);
  spawnRoles(box, cwd, ["backend"]);
  const first = await runDaemon(box, env);
  let second: DaemonProc | undefined;
  let third: DaemonProc | undefined;
  await using(
    box,
    () => [first, second, third],
    async () => {
      send(box, "shop", "web", "backend", "one");
      await waitForLog(box, "run 1 to end", (e) => e.event === "run-end");
      first.child.kill("SIGKILL");
      await first.exited;
      assert.ok(existsSync(join(box.root, "spawner/daemon.pid")), "a killed daemon leaves its lock behind");
      assert.match(ok(box, ["spawner", "status"]), /daemon: not running/);
      const missed = send(box, "shop", "web", "backend", "sent while down");
      second = await runDaemon(box, env);
      const takeover = await waitForLog(box, "the takeover", (e) => e.event === "takeover");
      assert.match(takeover.msg, new RegExp(`took over the daemon lock from pid ${first.child.pid} .*which is gone`));
      const start = readLog(box)
        .filter((e) => e.event === "start")
        .at(-1)!;
      assert.match(start.msg, /1 message\(s\) that arrived while it was down are not woken for \(start with --replay/);
      assert.equal(runs(log).length, 1);
      assert.equal(await second.stop(), 0);
      const replayed = send(box, "shop", "web", "backend", "sent while down again");
      third = await runDaemon(box, env, ["--replay"]);
      await waitFor("the replayed run", () => runs(log).length === 2);
      assert.deepEqual(wakes(box, "backend").at(-1)!.ids, [replayed.id], "--replay wakes for what arrived since the last daemon looked");
      assert.ok(!wakes(box, "backend").some((w) => (w.ids as string[]).includes(missed.id)));
      await third.stop();
    },
  );
});

test("daemon: --replay never wakes for mail the session already consumed", async () => {
  const { box, cwd, log, env } = setup();
  ok(box, ["spawner", "on"]);
  spawnRoles(box, cwd, ["backend"]);
  const first = await runDaemon(box, env);
  await first.stop();
  send(box, "shop", "web", "backend", "read before the daemon came back");
  const taken = JSON.parse(ok(box, ["recv", "--json", "--project", "shop", "--role", "backend"]));
  assert.equal(taken.messages.length, 1);
  const unread = send(box, "shop", "web", "backend", "still unread");
  const second = await runDaemon(box, env, ["--replay"]);
  await using(
    box,
    () => [second],
    async () => {
      await waitFor("the replayed run", () => runs(log).length === 1);
      assert.deepEqual(wakes(box, "backend")[0]!.ids, [unread.id]);
    },
  );
});

test("daemon: torn and garbage inbox lines are logged and passed over; later mail still wakes", async () => {
  const { box, cwd, log, env } = setup();
  ok(box, ["spawner", "on"]);
  spawnRoles(box, cwd, ["backend"]);
  send(box, "shop", "web", "backend", "before");
  ok(box, ["recv", "--project", "shop", "--role", "backend"]);
  const daemon = await runDaemon(box, env);
  await using(
    box,
    () => [daemon],
    async () => {
      const inbox = join(box.root, "projects/shop/backend/inbox.jsonl");
      appendFileSync(inbox, 'not json at all\n{"id":"x"}\n');
      await waitForLog(box, "the bad-data report", (e) => e.event === "bad-data");
      appendFileSync(inbox, '{"id":"torn","ts":"2026');
      const good = send(box, "shop", "web", "backend", "after the damage");
      await waitFor("the run", () => runs(log).length === 1);
      assert.deepEqual(wakes(box, "backend")[0]!.ids, [good.id]);
      assert.equal(readLog(box).filter((e) => e.event === "error").length, 0);
    },
  );
});

test("daemon: SIGTERM stops it cleanly: its own run is ended, the lock released, exit 0", async () => {
  const { box, cwd, log, env } = setup();
  ok(box, ["spawner", "on"]);
  spawnRoles(box, cwd, ["backend"]);
  const daemon = await runDaemon(box, { ...env, FIXTURE_MODE: "hold", FIXTURE_RELEASE: join(box.dir, "never") });
  await using(
    box,
    () => [daemon],
    async () => {
      send(box, "shop", "web", "backend", "work");
      await waitFor("the run", () => runs(log).length === 1);
      const pid = readJsonLines<{ event: string; pid: number }>(log).find((e) => e.event === "start")!.pid;
      assert.equal(await daemon.stop(), 0);
      assert.throws(() => process.kill(pid, 0), "the daemon's own run is gone");
      assert.ok(!existsSync(join(box.root, "spawner/daemon.pid")));
      const end = readLog(box).find((e) => e.event === "run-end")!;
      assert.match(end.msg, /ended by SIGTERM/);
      const status = JSON.parse(ok(box, ["spawner", "status", "--json"]));
      assert.equal(status.daemon.running, false);
      assert.equal(status.roles.find((r: { role: string }) => r.role === "backend").inFlightSince, undefined);
    },
  );
});

test("daemon: spawner run refuses extra arguments; status works with no root at all", () => {
  const box = sandbox();
  try {
    const r = cli(box, ["spawner", "run", "now"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /spawner run takes no arguments \(got "now"\)/);
    assert.match(ok(box, ["spawner", "status"]), /daemon: not running[\s\S]*automation: off/);
  } finally {
    box.cleanup();
  }
});
