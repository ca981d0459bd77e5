// Timestamps without Date#toISOString (src/lib/time.ts): the same text, and no hook sets up V8's
// time zone cache for it (the first toISOString of a process reads the zone: 0.7-2 ms per prompt).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { isoTime } from "../../src/lib/time.ts";
import { BIN } from "../helpers/bin.ts";
import { bridge, cleanEnv, makeRoot } from "../helpers/cli.ts";

test("isoTime writes what toISOString writes, for every year it can, and refuses what it refuses", () => {
  const day = 86_400_000;
  const samples = [0, -1, 1, 951_782_400_000, 951_868_799_999, 1_796_514_006_959, Date.now(), 253_402_300_799_999, 253_402_300_800_000];
  samples.push(-62_167_219_200_000, -62_167_219_200_001, 8.64e15, -8.64e15, 4 * day + 0.5);
  for (let i = 0; i < 2000; i++) samples.push(Math.round((Math.random() * 2 - 1) * 8.64e15));
  for (const ms of samples) assert.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
  for (const bad of [Number.NaN, 8.64e15 + 1, -8.64e15 - 1, Number.POSITIVE_INFINITY])
    assert.throws(() => isoTime(bad), RangeError, String(bad));
  const before = Date.now();
  const now = Date.parse(isoTime());
  assert.ok(before <= now && now <= Date.now(), "now by default");
});

test("a bridged recv that takes mail and a bridged guard never read the time zone", (t) => {
  const root = makeRoot(t);
  // A zone that is a FIFO: a process that reads it waits for a writer that never comes, and the
  // run ends at the timeout instead of answering (toISOString did that on its first call).
  const fifo = join(root, "..", "zone");
  execFileSync("mkfifo", [fifo]);
  const as = { root, project: "shop" };
  assert.equal(bridge(["send", "--queue", "api", "hello"], { ...as, role: "web" }).status, 0);
  const env = cleanEnv({ BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "api", TZ: `:${fifo}` });
  const prompt = JSON.stringify({ hook_event_name: "UserPromptSubmit", session_id: "s1", prompt: "hi" });
  const recv = spawnSync(process.execPath, [BIN, "hook", "recv"], { env, input: prompt, encoding: "utf8", timeout: 20_000 });
  assert.equal(recv.status, 0, `recv: ${recv.signal ?? ""} ${recv.stderr}`);
  assert.match(recv.stdout, /hello/);
  const push = JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command: "git push" } });
  const guard = spawnSync(process.execPath, [BIN, "hook", "guard"], { env, input: push, encoding: "utf8", timeout: 20_000 });
  assert.equal(guard.status, 0, `guard: ${guard.signal ?? ""} ${guard.stderr}`);
  assert.match(guard.stdout, /"permissionDecision":"deny"/);
});
