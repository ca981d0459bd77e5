// The handshake answered before the SDK is loaded (src/mcp/wire.ts) must be the SDK's own answer,
// and the hand-over to the SDK must keep every message, in order, answered once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { negotiateVersion, PROTOCOL_VERSIONS } from "../../src/mcp/wire.ts";
import { BIN } from "../helpers/bin.ts";
import { waitFor } from "../helpers/poll.ts";

test("the protocol versions are the SDK's, and negotiation picks what the SDK's Server picks", () => {
  assert.deepEqual(
    [...PROTOCOL_VERSIONS],
    [LATEST_PROTOCOL_VERSION, ...SUPPORTED_PROTOCOL_VERSIONS.filter((v) => v !== LATEST_PROTOCOL_VERSION)],
  );
  for (const v of [...SUPPORTED_PROTOCOL_VERSIONS, "1999-01-01", 7, undefined]) {
    assert.equal(negotiateVersion(v), SUPPORTED_PROTOCOL_VERSIONS.includes(v as string) ? v : LATEST_PROTOCOL_VERSION);
  }
});

type Reply = { id?: unknown; result?: any; error?: { code: number; message: string } };

/** A raw stdio session: write lines, collect replies by id. */
function raw(t: import("node:test").TestContext) {
  const root = mkdtempSync(join(tmpdir(), "sb-mcp-wire-"));
  const child = spawn(process.execPath, [BIN, "mcp"], {
    env: { PATH: process.env.PATH, BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" },
  });
  t.after(() => {
    child.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const replies = (): Reply[] =>
    out
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l));
  return {
    send: (...messages: unknown[]) =>
      child.stdin.write(messages.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join("\n") + "\n"),
    reply: (id: unknown) => waitFor(`reply ${JSON.stringify(id)}`, () => replies().find((r) => r.id === id)),
    replies,
    stderr: () => err,
  };
}

const init = (id: number, protocolVersion: string) => ({
  jsonrpc: "2.0",
  id,
  method: "initialize",
  params: { protocolVersion, capabilities: {}, clientInfo: { name: "raw", version: "0" } },
});

test("the fast initialize answer equals the SDK's answer to the same request", async (t) => {
  for (const version of ["2024-11-05", "1999-01-01"]) {
    const s = raw(t);
    s.send(init(1, version));
    const fast = await s.reply(1);
    // A tool call hands the session to the SDK; a second initialize is then the SDK's own answer.
    s.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "bridge_whoami", arguments: {} } }, init(3, version));
    const sdk = await s.reply(3);
    assert.deepEqual(fast.result, sdk.result);
    assert.equal(fast.result.protocolVersion, version === "1999-01-01" ? LATEST_PROTOCOL_VERSION : version);
  }
});

test("hand-over: every message is answered once and in order; the replayed initialize is never answered twice", async (t) => {
  const s = raw(t);
  s.send(
    { jsonrpc: "2.0", id: "d", method: "server/discover", params: {} },
    init(1, "2025-11-25"),
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "tools/list" },
    { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "bridge_whoami", arguments: {} } },
    "this line is not JSON",
    { jsonrpc: "2.0", id: 4, method: "ping" },
    { jsonrpc: "2.0", id: 5, method: "tools/list" },
    { jsonrpc: "2.0", id: 6, method: "prompts/list" },
    { jsonrpc: "2.0", id: 7, method: "server/discover" },
  );
  const last = await s.reply(7);
  assert.equal(last.error?.code, -32601, "the SDK answers unknown methods as the fast path did");
  assert.equal((await s.reply("d")).error?.code, -32601);
  assert.match((await s.reply(3)).result.content[0].text, /you are role "web"/);
  assert.deepEqual((await s.reply(4)).result, {});
  assert.deepEqual((await s.reply(5)).result, (await s.reply(2)).result, "the SDK lists the same tools");
  assert.equal((await s.reply(6)).result.prompts.length, 6);
  const ids = s.replies().map((r) => r.id);
  assert.deepEqual([...ids].sort(), ["d", 1, 2, 3, 4, 5, 6, 7].sort(), "one answer per request, nothing for the replayed initialize");
  assert.match(s.stderr(), /unparsable message line/);
});

test("a list request with parameters, or a malformed initialize, goes to the SDK", async (t) => {
  const s = raw(t);
  s.send(init(1, "2025-11-25"), { jsonrpc: "2.0", id: 2, method: "tools/list", params: { cursor: "x" } });
  assert.ok(Array.isArray((await s.reply(2)).result.tools));
  const t2 = raw(t);
  t2.send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25" } });
  const rejected = await t2.reply(1);
  assert.ok(rejected.error && rejected.result === undefined, "the SDK rejects it (its own error code and message)");
});
