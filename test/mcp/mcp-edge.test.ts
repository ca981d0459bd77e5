// The MCP server at its edges: the raw handshake, sessions with no bridge identity, invalid
// arguments, bounded answers, and how the process ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "../helpers/bin.ts";
import { Room } from "../helpers/mcp.ts";
import { waitFor } from "../helpers/poll.ts";

const TOOLS_WITH_ARGS: Record<string, Record<string, unknown>> = {
  bridge_send: { to: "api", body: "hello" },
  bridge_recv: {},
  bridge_peek: {},
  bridge_tail: {},
  bridge_wait: { timeoutSeconds: 1 },
  bridge_status: { id: "mabc" },
  bridge_roles: {},
  bridge_whoami: {},
  bridge_config: {},
  bridge_mode: { role: "api", mode: "auto" },
  bridge_set: { role: "api", model: "x" },
  bridge_settings: { maxHops: 2 },
};

test("raw stdio: server/discover gets -32601 at once, then the normal handshake; stdout carries only JSON-RPC", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "sb-mcp-raw-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const child = spawn(process.execPath, [BIN, "mcp"], {
    env: { PATH: process.env.PATH, BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "web" },
  });
  t.after(() => child.kill("SIGKILL"));
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const lines = [
    { jsonrpc: "2.0", id: 0, method: "server/discover", params: {} },
    {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
    },
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { jsonrpc: "2.0", id: 2, method: "tools/list" },
  ];
  child.stdin.write(lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  await waitFor("tools/list answer", () => (/"id":2[,}]/.test(out) ? true : undefined));
  const replies = out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(replies.find((r) => r.id === 0).error.code, -32601);
  assert.equal(replies.find((r) => r.id === 1).result.protocolVersion, "2025-11-25");
  assert.match(replies.find((r) => r.id === 1).result.instructions, /role "web" of bridge project "shop"/);
  assert.equal(replies.find((r) => r.id === 2).result.tools.length, 9, "the non-admin tools");
  const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  child.stdin.end();
  assert.equal(await closed, 0, `exits 0 when the client hangs up\n${err}`);
});

test("unbridged (no BRIDGE_PROJECT/BRIDGE_ROLE): starts cleanly, every tool answers how to connect, nothing crashes", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const s = await room.start({});
  assert.equal((await s.client.listTools()).tools.length, 9, "the non-admin tools");
  assert.match(s.client.getInstructions() ?? "", /not connected to a bridge project/);
  for (const [name, args] of Object.entries(TOOLS_WITH_ARGS)) {
    const r = await s.call(name, args);
    assert.match(r.text, /BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude/, `${name} says how to connect:\n${r.text}`);
    if (name !== "bridge_whoami" && name !== "bridge_config") assert.equal(r.isError, true, name);
  }
  assert.match(
    (await s.call("bridge_whoami")).text,
    /not connected to session-bridge \(BRIDGE_PROJECT is not set; BRIDGE_ROLE is not set\)/,
  );
  assert.match(await s.prompt("show-config"), /session-bridge automation settings/);
  assert.match(
    await s.prompt("set-mode", { role: "api", mode: "auto" }),
    /not changed: .*BRIDGE_ADMIN=1 BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude/,
  );
  assert.deepEqual(readdirSync(room.root), [], "an unbridged server writes nothing");
  assert.match(s.stderr(), /session-bridge mcp: this Claude Code session is not connected/);
});

test("partly bridged: a project without a role still lists roles; a bad role name is explained", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  const projectOnly = await room.start({ BRIDGE_PROJECT: "shop" });
  assert.match((await projectOnly.call("bridge_roles")).text, /- web: live/);
  assert.match((await projectOnly.call("bridge_send", { to: "web", body: "x" })).text, /BRIDGE_ROLE is not set/);
  // Half an identity is a mistake to tell the user about: the instructions say so, and whoami.
  assert.match(
    projectOnly.client.getInstructions() ?? "",
    /^session-bridge warning: this Claude Code session is not connected to a bridge project, though its environment tries to: BRIDGE_ROLE is not set\. To fix it, restart Claude Code with both set to names, e\.g\. `BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude`.*Tell the user about this at the start of the conversation/,
  );
  assert.match((await projectOnly.call("bridge_whoami")).text, /though its environment tries to: BRIDGE_ROLE is not set/);
  const bad = await room.start({ BRIDGE_PROJECT: "shop", BRIDGE_ROLE: "../etc" });
  const who = await bad.call("bridge_whoami");
  assert.match(who.text, /BRIDGE_ROLE="\.\.\/etc" is not a role name \(1–64 of A-Z a-z 0-9 \. _ -, starting with a letter or digit\)/);
  const typo = await room.start({ BRIDGE_PROJECT: "shop", BRIDGE_ROLES: "api" });
  assert.match(typo.client.getInstructions() ?? "", /"BRIDGE_ROLES" is not a variable session-bridge reads \(did you mean BRIDGE_ROLE\?\)/);
  // An admin session without identity may still configure a named project.
  const admin = await room.start({ BRIDGE_ADMIN: "1" });
  assert.equal((await admin.call("bridge_mode", { project: "shop", role: "web", mode: "auto" })).isError, false);
  assert.match((await admin.call("bridge_mode", { role: "web", mode: "auto" })).text, /no project given/);
  assert.match((await web.call("bridge_config")).text, /- web \(you\): manual — automation is off/);
});

test("invalid arguments and refused sends are isError results with actionable text", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  await room.join("shop", "api");
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["bridge_send", { to: "api" }, /invalid arguments for bridge_send: "body" is required \(known arguments: to, body, replyTo, queue\)/],
    ["bridge_send", { to: 5, body: "x" }, /"to" must be a string of 1 to 64 characters \(got 5\)/],
    [
      "bridge_send",
      { to: "apii", body: "x" },
      /E_UNKNOWN_ROLE: unknown role "apii" in project "shop" \(known: api; did you mean "api"\?\); .*queue: true/,
    ],
    ["bridge_send", { to: "web", body: "x" }, /E_SELF_SEND: "web" is your own role/],
    ["bridge_send", { to: "api", body: "   " }, /E_BAD_BODY: message body is empty/],
    ["bridge_send", { to: "api", body: "x".repeat(262_145) }, /E_TOO_LARGE: message body is 262145 bytes, over the limit of 262144 bytes/],
    ["bridge_send", { to: "api", body: "x", replyTo: "not an id!" }, /replyTo "not an id!" is not a message id/],
    ["bridge_tail", { limit: 0 }, /"limit" must be an integer from 1 to 200 \(got 0\)/],
    ["bridge_wait", { timeoutSeconds: 601 }, /"timeoutSeconds" must be an integer from 1 to 600 \(got 601\)/],
    ["bridge_recv", { limit: 2.5 }, /"limit" must be an integer from 1 to 200/],
    ["bridge_roles", { project: "a b" }, /E_BAD_NAME: invalid project name "a b"/],
    ["bridge_whoami", { verbose: true }, /unknown argument "verbose" \(known arguments: none: call it with \{\}\)/],
    ["bridge_nope", {}, /unknown tool "bridge_nope" \(session-bridge tools: bridge_send, /],
  ];
  for (const [name, args, expected] of cases) {
    const r = await web.call(name, args);
    assert.equal(r.isError, true, `${name} ${JSON.stringify(args).slice(0, 60)}`);
    assert.match(r.text, expected);
  }
  const queued = await web.call("bridge_send", { to: "billing", body: "when you join", queue: true });
  assert.match(queued.text, /billing: queued; no live session holds this role now/);
  await assert.rejects(web.client.getPrompt({ name: "nope" }), /no prompt "nope"/);
});

test("recv answers are bounded: the rest stays unread and the answer says how many", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  const api = await room.join("shop", "api");
  for (let i = 0; i < 6; i++) await web.call("bridge_send", { to: "api", body: `${i}:` + "y".repeat(15_000) });
  const first = await api.call("bridge_recv");
  assert.equal((first.text.match(/^── m/gm) ?? []).length, 2);
  assert.match(first.text, /4 more unread messages left for the next bridge_recv/);
  const limited = await api.call("bridge_recv", { limit: 1 });
  assert.match(limited.text, /\n {2}2:y/);
  assert.match(limited.text, /3 more unread messages left/);
  const peek = await api.call("bridge_peek");
  assert.match(peek.text, /3 unread messages .*\n[\s\S]*\(1 more unread message not shown\.\)/);
  const tail = await api.call("bridge_tail", { limit: 6 });
  assert.match(tail.text, /4 older messages not shown: over 40000 characters/);
  assert.match(tail.text, /\n {2}5:y/, "tail keeps the newest");
});

test("SIGTERM ends the session record; mcp --help and stray arguments", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  process.kill(web.pid, "SIGTERM");
  const record = join(room.root, "projects/shop/web/sessions", `${web.pid}.json`);
  await waitFor("the record to be ended", () => (JSON.parse(readFileSync(record, "utf8")).endedAt ? true : undefined));
  const help = spawnSync(process.execPath, [BIN, "mcp", "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: session-bridge mcp/);
  const stray = spawnSync(process.execPath, [BIN, "mcp", "extra"], { encoding: "utf8", input: "" });
  assert.equal(stray.status, 2);
  assert.match(stray.stderr, /unexpected argument "extra"/);
  const usage = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
  assert.match(usage.stdout, /\n {2}mcp {2,}the stdio MCP server Claude Code launches/);
});
