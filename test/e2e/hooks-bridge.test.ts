// The bridge's hooks inside the real Claude Code 2.1.328 (offline, scripted model).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { addHook, allowTools, makeSandbox, onCleanup, runHeadless, startTui } from "./claude.ts";
import { callTool, lastUserText, reply, startModelServer, systemMessages, toolResults } from "./model-server.ts";
import { BIN } from "../helpers/bin.ts";
import { sendMessage } from "../../src/bus.ts";
import { readChainContext } from "../../src/chain.ts";
import { rolePaths } from "../../src/layout.ts";
import { turnOn } from "../../src/settings-ops.ts";

async function waitUntil<T>(what: string, f: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function hooks(configDir: string): void {
  const cmd = (name: string) => `${process.execPath} ${BIN} hook ${name}`;
  addHook(configDir, "SessionStart", { command: cmd("recv"), timeout: 30 });
  addHook(configDir, "UserPromptSubmit", { command: cmd("recv"), timeout: 30 });
  addHook(configDir, "PreToolUse", { command: cmd("guard"), timeout: 30 }, "Bash");
  addHook(configDir, "Stop", { command: cmd("wait"), asyncRewake: true, timeout: 3600 });
}

test("tui: recv injects mail, wait wakes the idle session with it, the woken turn keeps the chain", async (t: TestContext) => {
  const server = await startModelServer();
  onCleanup(t, () => server.close());
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  const env = { ...box.env, BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" };
  hooks(box.configDir);
  turnOn(root);
  const from = { root, project: "shop", role: "backend" };
  const settings = { maxBodyBytes: 1 << 20, fsync: false };
  sendMessage({ identity: from, to: "web", body: "MAIL-ONE before the first prompt", queue: true, stamp: { chain: "cfirst", hop: 0 }, settings });
  server.script("", [reply("FIRST-REPLY"), reply("WOKEN-REPLY")]);

  const tui = await startTui({ t, cwd: box.cwd, env });
  await tui.submit("hello there");
  await tui.waitFor("FIRST-REPLY", 20_000);
  const first = server.findRequests((r) => r.kind === "turn")[0]!;
  const ctx = systemMessages(first).join("\n");
  assert.match(ctx, /hook additional context: \[session-bridge\] Messages for role "web"/);
  assert.match(ctx, /MAIL-ONE before the first prompt/);
  const paths = rolePaths(root, "shop", "web");
  assert.equal(readChainContext(paths)?.source, "human");

  // The waiter is armed after the turn ends.
  const waiterPid = await waitUntil("the waiter", () => existsSync(paths.waiter) && JSON.parse(readFileSync(paths.waiter, "utf8")).pid);
  const before = server.mark();
  sendMessage({ identity: from, to: "web", body: "MAIL-TWO wakes you", queue: true, stamp: { chain: "cwake", hop: 2 }, settings });
  const woken = await server.waitForRequest((r) => r.kind === "turn", 20_000, { after: before });
  const wake = lastUserText(woken);
  assert.match(wake, /Stop hook blocking error from command "Stop": \[session-bridge\] Not an error: 1 new message from "backend" woke this session/);
  assert.match(wake, /MAIL-TWO wakes you/);
  await tui.waitFor("WOKEN-REPLY", 20_000);
  // The woken turn ran recv with the notification as its prompt: the chain is continued, not reset.
  assert.deepEqual({ ...readChainContext(paths)!, at: "" }, { chain: "cwake", hop: 3, at: "", source: "wake" });
  // Re-armed: a new waiter holds the role.
  await waitUntil("the re-armed waiter", () => existsSync(paths.waiter) && JSON.parse(readFileSync(paths.waiter, "utf8")).pid !== waiterPid);
  t.diagnostic(`wake message: ${wake.length} chars`);
  await tui.kill();
});

test("headless: guard denies git push with its reason; wait does not block claude -p", async (t: TestContext) => {
  const server = await startModelServer();
  onCleanup(t, () => server.close());
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  const env = { ...box.env, BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" };
  hooks(box.configDir);
  allowTools(box.configDir, ["Bash"]);
  server.script("", [callTool("Bash", { command: "git -C . push origin main", description: "push" }), reply("DONE")]);
  const started = Date.now();
  const r = await runHeadless({ cwd: box.cwd, env, prompt: "push it", args: ["--output-format", "json"] });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - started < 30_000);
  const second = server.findRequests((q) => q.kind === "turn")[1]!;
  const [result] = toolResults(second);
  assert.equal(result!.is_error, true);
  assert.match(result!.text, /PreToolUse:Bash hook error: session-bridge guard: `git push` is blocked in this bridged session/);
});
