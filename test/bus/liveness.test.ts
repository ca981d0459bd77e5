// Which sessions count as live, as `roles` and `send` show it: judged from the claude process
// itself (pid and start time) and only for records made on this machine (src/bus/machine.ts).
// Runs with /proc and without it (test/platform/without-proc.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { rolePaths } from "../../src/bus/layout.ts";
import { machineId } from "../../src/bus/machine.ts";
import { isLive, registerSession } from "../../src/bus/sessions.ts";
import { processStartTime } from "../../src/lib/proc.ts";
import { bridge, makeRoot } from "../helpers/cli.ts";

test("roles and send say who is live: a running claude; not one that exited, a reused pid, or a record from another machine; a renamed host keeps its sessions", async (t) => {
  const root = makeRoot(t);
  const claude = spawn("sleep", ["60"], { stdio: "ignore" });
  t.after(() => claude.kill("SIGKILL"));
  const gone = spawn("true", [], { stdio: "ignore" });
  await new Promise((r) => gone.once("exit", r));
  const pid = claude.pid!;
  const start = processStartTime(pid);
  assert.notEqual(start, undefined);
  const earlier = typeof start === "number" ? start - 1 : `lstart:${Number(String(start).slice(7)) - 3600}`;

  const record = (role: string, fields: Record<string, unknown>): void => {
    const paths = rolePaths(root, "shop", role);
    registerSession(paths, { pid: fields.pid as number });
    const file = join(paths.sessions, `${fields.pid}.json`);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), ...fields }));
  };
  record("web", { pid });
  record("api", { pid: gone.pid! });
  record("db", { pid, pidStart: earlier });
  // macOS renames the host when the network changes: same machine id, so still live.
  record("ops", { pid, host: "old-name.local" });
  // A shared root: another machine's record is not judged from here, whatever its hostname says.
  record("ci", { pid, machine: "0123456789abcdef", host: hostname() });
  // Written by 0.2.0 (no machine id): judged by hostname, as then.
  record("legacy", { pid, machine: undefined, host: hostname() });
  record("legacy-elsewhere", { pid, machine: undefined, host: "elsewhere.example" });

  const written = JSON.parse(readFileSync(join(rolePaths(root, "shop", "web").sessions, `${pid}.json`), "utf8"));
  assert.equal(written.machine, machineId());
  assert.deepEqual(written.pidStart, start);

  const roles = bridge(["roles", "--json"], { root, project: "shop" }).json();
  assert.deepEqual(Object.fromEntries(roles.roles.map((r: { role: string; live: boolean }) => [r.role, r.live])), {
    api: false,
    ci: false,
    db: false,
    legacy: true,
    "legacy-elsewhere": false,
    ops: true,
    web: true,
  });
  const text = bridge(["roles"], { root, project: "shop" }).stdout;
  assert.match(text, /web/);
  const sent = bridge(["send", "--json", "web", "hello"], { root, project: "shop", role: "api" }).json();
  assert.deepEqual(
    sent.deliveries[0].live.map((s: { pid: number }) => s.pid),
    [pid],
  );
  claude.kill("SIGKILL");
  await new Promise((r) => claude.once("exit", r));
  const after = bridge(["roles", "--json"], { root, project: "shop" }).json();
  assert.deepEqual(
    after.roles.filter((r: { live: boolean }) => r.live).map((r: { role: string }) => r.role),
    [],
    "its claude exited: nobody is live",
  );
});

test("without /proc, Claude Code's registry entry is one more witness: gone or naming another pid demotes a record, never promotes one", (t) => {
  const root = makeRoot(t);
  const paths = rolePaths(root, "shop", "web");
  const registry = join(root, "registry.json");
  const live = registerSession(paths, { pid: process.pid, messagingSocket: "/tmp/x.sock", claudeRegistry: registry });
  // Entry missing: Claude Code removed it when the session ended (the pid may live on, reused).
  assert.equal(isLive(live, false), false);
  assert.equal(isLive(live, true), true, "with /proc the start time decides alone");
  writeFileSync(registry, JSON.stringify({ pid: process.pid + 1 }));
  assert.equal(isLive(live, false), false);
  writeFileSync(registry, JSON.stringify({ pid: process.pid, status: "idle" }));
  assert.equal(isLive(live, false), true);
  // A record with no registry named (older Claude Code, other CLIs): kill(0) and ps decide, as before.
  const plain = registerSession(rolePaths(root, "shop", "api"), { pid: process.pid });
  assert.equal(isLive(plain, false), true);
  // An entry left by a dead claude proves nothing: the process check comes first.
  const dead = { ...live, pid: 2 ** 22 + 7 };
  writeFileSync(registry, JSON.stringify({ pid: dead.pid }));
  assert.equal(isLive(dead, false), false);
});
