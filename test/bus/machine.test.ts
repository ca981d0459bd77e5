// "This machine" for locks and session records (src/bus/machine.ts): stable when the hostname
// changes, distinct for another machine or a container sharing the root.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { computeMachineId, freshFor, hostName, machineBasis, machineId, machineIdFrom, madeHere } from "../../src/bus/machine.ts";
import type { MachineFacts } from "../../src/bus/machine.ts";
import { BIN, REPO } from "../helpers/bin.ts";
import { bridge, cleanEnv, makeRoot } from "../helpers/cli.ts";

const MACHINE_ID = "3d1219c7c4c5404aaa1f6d2a48adfda4";
const IOREG = `+-o Mac  <class IOPlatformExpertDevice, id 0x100000116, registered, matched, active, busy 0 (0 ms), retain 35>
    {
      "IOPlatformSerialNumber" = "C02XXXXXXXXX"
      "IOPlatformUUID" = "5a1f6c2e-0b7d-4f3e-9a8b-1c2d3e4f5a6b"
      "model" = <"MacBookPro18,3">
    }
`;

function facts(over: Partial<MachineFacts> & { files?: Record<string, string>; links?: Record<string, string> }): MachineFacts & {
  asked: number;
} {
  const f = {
    asked: 0,
    platform: "linux" as NodeJS.Platform,
    readText: (path: string) => over.files?.[path],
    readLink: (path: string) => over.links?.[path],
    ioreg: () => {
      f.asked++;
      return undefined as string | undefined;
    },
    hostname: () => "laptop.local",
    ...over,
  };
  return f;
}

test("Linux: /etc/machine-id with the pid namespace when /proc shows it; the hostname plays no part", () => {
  const ns = { "/proc/self/ns/pid": "pid:[4026531836]" };
  assert.equal(
    machineBasis(facts({ files: { "/etc/machine-id": `${MACHINE_ID}\n` }, links: ns })),
    `machine-id:${MACHINE_ID}|pid:[4026531836]`,
  );
  assert.equal(machineBasis(facts({ files: { "/var/lib/dbus/machine-id": MACHINE_ID } })), `machine-id:${MACHINE_ID}`);
  const a = computeMachineId(facts({ files: { "/etc/machine-id": MACHINE_ID }, links: ns, hostname: () => "home" }));
  const b = computeMachineId(facts({ files: { "/etc/machine-id": MACHINE_ID }, links: ns, hostname: () => "cafe-wifi" }));
  assert.equal(a, b, "renaming the host does not change the machine");
  assert.match(a, /^[0-9a-f]{16}$/);
  assert.ok(!a.includes(MACHINE_ID.slice(0, 16)), "the raw machine id is never written (machine-id(5))");
  const container = computeMachineId(
    facts({ files: { "/etc/machine-id": MACHINE_ID }, links: { "/proc/self/ns/pid": "pid:[4026532299]" } }),
  );
  assert.notEqual(container, a, "a container with another pid namespace is another machine: its pids are another set");
  // An empty or placeholder machine-id (some container images) is no identity.
  for (const bad of ["", "uninitialized\n", "xyz"]) {
    assert.equal(machineBasis(facts({ files: { "/etc/machine-id": bad } })), "hostname:laptop.local");
  }
});

test("macOS: the hardware UUID, asked once and kept in a per-user cache; otherwise the hostname", () => {
  let kept: string | undefined;
  const cache = { read: () => kept, write: (id: string) => void (kept = id) };
  const mac = facts({ platform: "darwin", ioreg: () => IOREG, cache });
  assert.equal(machineBasis(mac), "platform-uuid:5A1F6C2E-0B7D-4F3E-9A8B-1C2D3E4F5A6B");
  const id = computeMachineId(mac);
  assert.equal(kept, id);
  const renamed = facts({ platform: "darwin", cache, hostname: () => "Someones-MacBook-Pro.local" });
  assert.equal(computeMachineId(renamed), id, "read from the cache: no ioreg run, the new hostname ignored");
  assert.equal(renamed.asked, 0);
  kept = "not an id";
  assert.equal(computeMachineId(facts({ platform: "darwin", ioreg: () => IOREG, cache })), id, "a damaged cache is recomputed");
  const noIoreg = facts({ platform: "darwin", cache: { read: () => undefined, write: () => assert.fail("a hostname id is not kept") } });
  assert.equal(computeMachineId(noIoreg), machineIdFrom("hostname:laptop.local"));
});

test("records: judged by machine id; written before machine ids, by hostname", () => {
  assert.equal(madeHere({ machine: machineId(), host: "anything" }), true);
  assert.equal(madeHere({ machine: "0123456789abcdef", host: hostname() }), false);
  assert.equal(madeHere({ host: hostname() }), true);
  assert.equal(madeHere({ host: "elsewhere.example" }), false);
  assert.equal(madeHere({}), false);
});

function unshareUts(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (a UTS namespace to rename the host)";
  const probe = spawnSync("unshare", ["--uts", "true"], { encoding: "utf8" });
  return probe.status === 0 ? undefined : `unshare --uts is not permitted here: ${probe.stderr.trim()}`;
}

test("a renamed host keeps its locks and sessions: a holder that died under the old name is broken at once, a live one is not", {
  skip: unshareUts(),
}, async (t) => {
  const root = makeRoot(t);
  const worker = join(REPO, "dist/test/fixtures/bus-worker.mjs");
  const lock = join(root, "..", "lock");
  // The holder runs under another hostname (as before a network change) and is killed.
  const holder = spawn(
    "unshare",
    ["--uts", "sh", "-c", `hostname before-the-move.local && exec "$0" "$@"`, process.execPath, worker, "hold", lock],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  t.after(() => holder.kill("SIGKILL"));
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on("data", (d: Buffer) => d.toString().includes("locked") && resolve());
    holder.on("exit", (code) => reject(new Error(`holder exited ${code}`)));
  });
  const signed = JSON.parse(readFileSync(lock, "utf8"));
  assert.equal(signed.host, "before-the-move.local");
  assert.equal(signed.machine, machineId(), "same machine, whatever its name");
  // Alive: never broken early, although its hostname is not ours.
  const waited = spawnSync(process.execPath, [worker, "try-lock", lock, "200"], { encoding: "utf8" });
  assert.match(waited.stdout + waited.stderr, /E_LOCKED/);
  holder.kill("SIGKILL");
  await new Promise((r) => holder.once("exit", r));
  // Dead: broken at the first look (timeout 0), which only a holder judged from here can be.
  const taken = spawnSync(process.execPath, [worker, "try-lock", lock, "0"], { encoding: "utf8" });
  assert.match(taken.stdout, /^locked/, taken.stderr);
  assert.equal(existsSync(`${lock}.break`), false);
});

test("the hostname a record carries is os.hostname(); a bridged recv that takes the lock, and the guard, never load node:os for it", (t) => {
  assert.equal(hostName(), hostname());
  const root = makeRoot(t);
  assert.equal(bridge(["send", "--queue", "web", "the build is green"], { root, project: "shop", role: "api" }).status, 0);
  // A preload that reports, at exit, whether the process loaded node:os (on Linux the hostname is
  // read from /proc; elsewhere node:os is how it is asked).
  const probe = `${root}-probe.cjs`;
  const report = `${root}-probe.json`;
  writeFileSync(
    probe,
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify(process.moduleLoadList.includes("NativeModule os"))));\n`,
  );
  t.after(() => rmSync(probe, { force: true }));
  const env = cleanEnv({ BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web", CLAUDE_PID: String(process.pid) });
  const loadsOs = (hook: string, input: string, expect: RegExp): boolean => {
    const r = spawnSync(process.execPath, ["-r", probe, BIN, "hook", hook], { env, input, encoding: "utf8" });
    assert.match(r.stdout, expect, r.stderr);
    return JSON.parse(readFileSync(report, "utf8")) as boolean;
  };
  const linux = process.platform === "linux";
  assert.equal(
    loadsOs("recv", JSON.stringify({ hook_event_name: "UserPromptSubmit", session_id: "s1", prompt: "hi" }), /the build is green/),
    !linux,
  );
  const record = JSON.parse(readFileSync(join(root, "projects", "shop", "web", "sessions", `${process.pid}.json`), "utf8"));
  assert.equal(record.host, hostname(), "the session record's host");
  const push = JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "git push" } });
  assert.equal(loadsOs("guard", push, /"permissionDecision":"deny"/), false);
});

test("freshFor: one read per period; asked again once the period has passed or the clock went back", () => {
  let now = 10_000;
  let reads = 0;
  const value = freshFor(
    1000,
    () => `read ${++reads}`,
    () => now,
  );
  assert.equal(value(), "read 1");
  now += 999;
  assert.equal(value(), "read 1", "within the period: kept");
  now += 1;
  assert.equal(value(), "read 2", "the period passed: read again");
  now -= 5000;
  assert.equal(value(), "read 3", "the clock went back: read again, never kept for longer");
  assert.equal(value(), "read 3");
  assert.equal(reads, 3);
});
