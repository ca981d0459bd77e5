// Input whose size someone else controls is read only up to a limit: stdin of `send TO -` and of
// the hooks, the settings file, Claude Code's JSON files, inbox lines and MCP frames. Each case
// feeds an endless or oversized input to the built binary and checks the clear error (naming the
// limit and the fix) and the child's peak memory (VmHWM) against a generous bound; the unbounded
// readers these replace peaked at 115–570 MiB on the same inputs (README "Reliability and security").
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bridge, cleanEnv, makeRoot } from "../helpers/cli.ts";
import { MiB, runMeasured } from "../helpers/memory.ts";

// A bridged CLI or hook run idles at 40–50 MiB of resident memory on Node 20/22.
const BOUND_MiB = 100;
// An inbox line may hold up to 32 MiB before a reader gives up on it (bus/lines.ts).
const LINE_BOUND_MiB = 150;
const STREAM_BOUND_MiB = 160;

const shop = (root: string, role: string) => cleanEnv({ BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: role });

test("send TO - stops reading stdin past maxBodyBytes and says so at once", async (t) => {
  const root = makeRoot(t);
  bridge(["recv"], { root, project: "shop", role: "web" });
  const r = await runMeasured(["send", "web", "-"], { env: shop(root, "api"), input: "endless", killAboveMiB: 300 });
  assert.equal(r.killed, false, `still reading at ${r.peakMiB} MiB`);
  assert.equal(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    /E_TOO_LARGE: the body on stdin is over the limit of 262144 bytes \(maxBodyBytes\); stopped reading there and sent nothing\. Send a file path instead, or raise maxBodyBytes/,
  );
  assert.ok(r.peakMiB < BOUND_MiB, `peak ${r.peakMiB} MiB`);
  assert.equal(bridge(["peek", "--json"], { root, project: "shop", role: "web" }).json().messages.length, 0);
});

for (const hook of ["recv", "guard"]) {
  test(`hook ${hook} reads at most 8 MiB of stdin and says what it did instead`, async (t) => {
    const root = makeRoot(t);
    const r = await runMeasured(["hook", hook], { env: shop(root, "web"), input: "endless", killAboveMiB: 300 });
    assert.equal(r.killed, false, `still reading at ${r.peakMiB} MiB`);
    assert.equal(r.status, 0, r.stderr);
    const text = hook === "guard" ? JSON.parse(r.stdout).hookSpecificOutput.permissionDecisionReason : r.stderr;
    assert.match(text, /the hook input on stdin is over 8 MiB \(8388608 bytes\); stopped reading there/);
    if (hook === "recv") assert.match(text, /nothing was read from the inbox: the messages wait for the next prompt/);
    else assert.match(text, /fails closed/);
    assert.ok(r.peakMiB < BOUND_MiB, `peak ${r.peakMiB} MiB`);
  });
}

test("an oversized bridge-settings.json is refused by its size, without reading it", async (t) => {
  const root = makeRoot(t);
  bridge(["recv"], { root, project: "shop", role: "web" });
  const file = join(root, "bridge-settings.json");
  writeFileSync(file, "");
  truncateSync(file, 256 * MiB); // sparse: costs no disk
  const r = await runMeasured(["whoami"], { env: shop(root, "web"), killAboveMiB: 900 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /bridge-settings\.json is 268435456 bytes, over the 1 MiB a settings file may hold; fix or delete it \(defaults apply when it is missing\)/,
  );
  assert.ok(r.peakMiB < BOUND_MiB, `peak ${r.peakMiB} MiB`);
});

test("an oversized Claude Code settings.json is refused by its size, without reading it", async (t) => {
  const root = makeRoot(t);
  const config = join(root, "..", "claude");
  mkdirSync(config);
  const file = join(config, "settings.json");
  writeFileSync(file, "");
  truncateSync(file, 256 * MiB);
  const r = await runMeasured(["doctor", "--config-dir", config], {
    env: cleanEnv({ BRIDGE_ROOT: root, HOME: config }),
    killAboveMiB: 900,
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /settings\.json is 268435456 bytes, over the 64 MiB session-bridge reads of a Claude Code file/);
  assert.ok(r.peakMiB < BOUND_MiB, `peak ${r.peakMiB} MiB`);
});

test("an inbox line past 32 MiB is skipped without being held, and the messages around it are delivered", async (t) => {
  const root = makeRoot(t);
  const web = { root, project: "shop", role: "web" };
  bridge(["recv"], web);
  assert.equal(bridge(["send", "web", "before"], { ...web, role: "api" }).status, 0);
  const inbox = join(root, "projects/shop/web/inbox.jsonl");
  truncateSync(inbox, statSync(inbox).size + 200 * MiB); // 200 MiB of NUL, no newline: a line nobody wrote
  appendFileSync(inbox, "\n");
  assert.equal(bridge(["send", "web", "after"], { ...web, role: "api" }).status, 0);

  const tail = await runMeasured(["tail", "--json"], { env: shop(root, "web"), killAboveMiB: 900 });
  assert.equal(tail.status, 0, tail.stderr);
  assert.deepEqual(
    JSON.parse(tail.stdout).messages.map((m: { body: string }) => m.body),
    ["before", "after"],
  );
  assert.ok(tail.peakMiB < LINE_BOUND_MiB, `tail peak ${tail.peakMiB} MiB`);

  const recv = await runMeasured(["recv", "--json"], { env: shop(root, "web"), killAboveMiB: 900 });
  assert.equal(recv.status, 0, recv.stderr);
  const got = JSON.parse(recv.stdout);
  assert.deepEqual(
    got.messages.map((m: { body: string }) => m.body),
    ["before", "after"],
  );
  assert.equal(got.skipped, 1);
  assert.ok(recv.peakMiB < LINE_BOUND_MiB, `recv peak ${recv.peakMiB} MiB`);
});

test("a message whose stored line would pass 32 MiB is refused when sent, so every stored line stays readable", (t) => {
  const root = makeRoot(t);
  bridge(["recv"], { root, project: "shop", role: "web" });
  bridge(["spawner", "config", "maxBodyBytes=16777216"], { root });
  // 6 MiB of control characters: within maxBodyBytes, but each is stored as a 6-byte \\u escape.
  const r = bridge(["send", "web", "-"], { root, project: "shop", role: "api", input: "\u0001".repeat(6 * MiB) });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /E_TOO_LARGE: message .* takes 37748\d{3} bytes as a stored line, over the 33554432 bytes a line may hold/);
});

test("an MCP frame past 10 MiB gets an error answer naming the limit; the next frames are served", async (t) => {
  const root = makeRoot(t);
  const big = "y".repeat(12 * MiB);
  const frames = Buffer.from(
    `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"bridge_send","arguments":{"to":"web","body":"${big}"}}}\n` +
      // The SDK's Client writes its keys in this order (id last).
      `{"method":"tools/call","params":{"name":"bridge_whoami","arguments":{"x":"${big}"}},"jsonrpc":"2.0","id":8}\n` +
      `{"jsonrpc":"2.0","id":9,"method":"ping"}\n`,
  );
  const r = await runMeasured(["mcp"], {
    env: shop(root, "web"),
    input: frames,
    after: () => {
      // stdin stays open: the server ends with it.
    },
    until: /"id":9/,
    killAboveMiB: 600,
  });
  const answers = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const byId = new Map(answers.map((a) => [a.id, a]));
  for (const id of [7, 8]) {
    assert.match(
      byId.get(id)?.error?.message ?? `no answer to ${id}: ${r.stdout.slice(0, 500)}`,
      /this message is over 10 MiB \(10485760 bytes\), the most session-bridge reads as one MCP message; it was skipped/,
    );
  }
  assert.deepEqual(byId.get(9)?.result, {});
  assert.doesNotMatch(r.stderr, /unparsable/);
  assert.ok(r.peakMiB < BOUND_MiB, `peak ${r.peakMiB} MiB`);
});

test("an endless MCP line without a newline keeps the server's memory bounded", async (t) => {
  const root = makeRoot(t);
  const r = await runMeasured(["mcp"], {
    env: shop(root, "web"),
    input: "endless",
    fill: "y",
    stopAfterBytes: 96 * MiB,
    killAboveMiB: 600,
  });
  assert.equal(r.killed, false, `peak ${r.peakMiB} MiB`);
  assert.ok(r.fed >= 96 * MiB, `the server stopped reading after ${r.fed} bytes`);
  // Read through process.stdin, whose 64 KiB chunks wait for V8's next collection: 96 MiB of bare
  // newlines alone peaks near 125 MiB. What must not happen is holding the line itself.
  assert.ok(r.peakMiB < STREAM_BOUND_MiB, `peak ${r.peakMiB} MiB`);
  assert.match(r.stderr, /over 10 MiB/);
});
