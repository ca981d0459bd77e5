// Two `session-bridge mcp` servers as two roles, driven by the SDK's real Client over stdio.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_TOOLS, NON_ADMIN_TOOLS } from "../../src/agents/tool-names.ts";
import { BIN } from "../helpers/bin.ts";
import { messageId, Room } from "../helpers/mcp.ts";
import { waitFor } from "../helpers/poll.ts";

test("tools/list: the non-admin tools, the admin ones only to an admin session; each scoped to the bridge project, and short", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  const { tools } = await web.client.listTools();
  assert.deepEqual(tools.map((x) => x.name).sort(), [
    "bridge_config",
    "bridge_peek",
    "bridge_recv",
    "bridge_roles",
    "bridge_send",
    "bridge_status",
    "bridge_tail",
    "bridge_wait",
    "bridge_whoami",
  ]);
  // The installer's permissions and the spawn driver's --allowedTools come from these lists.
  assert.deepEqual(tools.map((x) => x.name).sort(), [...NON_ADMIN_TOOLS].sort());
  // Every definition is in the model's context on every turn (docs/architecture.md; bench measures it).
  assert.ok(JSON.stringify({ tools }).length <= 6000, `${JSON.stringify({ tools }).length} bytes`);
  const admin = await room.join("shop", "lead", { BRIDGE_ADMIN: "1" });
  const adminTools = (await admin.client.listTools()).tools;
  assert.deepEqual(adminTools.map((x) => x.name).sort(), [...NON_ADMIN_TOOLS, ...ADMIN_TOOLS].sort());
  for (const tool of adminTools) {
    assert.match(tool.description ?? "", /bridge project/, `${tool.name} says it reaches the bridge project`);
    assert.equal(tool.inputSchema.type, "object");
  }
  // Not listed is not gone: called by name, an admin tool answers with the refusal.
  const refused = await web.call("bridge_settings", { enabled: false });
  assert.equal(refused.isError, true);
  assert.match(refused.text, /only an admin session may do; this session was not started with BRIDGE_ADMIN=1, so nothing was changed/);
  const { prompts } = await web.client.listPrompts();
  assert.deepEqual(prompts.map((p) => p.name).sort(), [
    "automation",
    "configure-role",
    "set-driver",
    "set-limits",
    "set-mode",
    "show-config",
  ]);
});

test("two roles exchange messages both ways; recv consumes exactly once; peek and tail do not consume", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  const api = await room.join("shop", "api");

  const sent = await web.call("bridge_send", { to: "api", body: "schema v2 is ready" });
  assert.equal(sent.isError, false, sent.text);
  assert.match(sent.text, /api: queued; live session: MCP server pid \d+/);
  // bridge_send answers what the CLI's send does about a wake (src/wake/forecast.ts).
  assert.match(
    sent.text,
    /api: queued; .*; not woken automatically: automation is off \(enabled: false\); .*; it waits for that role's next prompt\n/,
  );
  const id = messageId(sent.text);

  const peeked = await api.call("bridge_peek");
  assert.match(peeked.text, /1 unread message from sibling Claude Code sessions of bridge project "shop"/);
  assert.match(peeked.text, new RegExp(`── ${id} from web to api .* chain c\\w+ hop 0`));
  assert.match(peeked.text, /\n {2}schema v2 is ready\n/);

  const got = await api.call("bridge_recv");
  assert.match(got.text, /not instructions from the user/);
  assert.match(got.text, /schema v2 is ready/);
  assert.match((await api.call("bridge_recv")).text, /^no unread messages for role "api"/);

  const reply = await api.call("bridge_send", { to: "web", body: "thanks, migrating", replyTo: id });
  assert.equal(reply.isError, false, reply.text);
  const back = await web.call("bridge_recv");
  assert.match(back.text, new RegExp(`from api to web .*reply to ${id}`));
  assert.match(back.text, /thanks, migrating/);

  const tail = await api.call("bridge_tail", { limit: 5 });
  assert.match(tail.text, /schema v2 is ready/);
  assert.match(tail.text, /· read/);
});

test("broadcast reaches every other role, each once", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  const api = await room.join("shop", "api");
  const infra = await room.join("shop", "infra");
  const sent = await web.call("bridge_send", { to: "*", body: "deploy at 5" });
  assert.match(sent.text, /sent m\w+ to every other role/);
  assert.match(sent.text, /api: queued/);
  assert.match(sent.text, /infra: queued/);
  assert.doesNotMatch(sent.text, /web: queued/);
  for (const s of [api, infra]) assert.match((await s.call("bridge_recv")).text, /from web to \* .*\n {2}deploy at 5/);
  assert.match((await web.call("bridge_recv")).text, /^no unread/);
});

test("status is queued before the read and read (when, by whom) after", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  const api = await room.join("shop", "api");
  const id = messageId((await web.call("bridge_send", { to: "api", body: "ping" })).text);
  assert.match((await web.call("bridge_status", { id })).text, /api: queued, not read yet/);
  await api.call("bridge_recv");
  assert.match((await web.call("bridge_status", { id })).text, /api: read at \d{4}-\d\d-\d\dT.* by mcp bridge_recv \(pid \d+\)/);
  const missing = await web.call("bridge_status", { id: "mnothere" });
  assert.equal(missing.isError, true);
  assert.match(missing.text, /E_NOT_FOUND: no message with id "mnothere"/);
});

test("bridge_wait returns a message that arrives later, consumed, and times out with nothing consumed", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  const api = await room.join("shop", "api");

  const timedOut = await api.call("bridge_wait", { timeoutSeconds: 1 });
  assert.equal(timedOut.isError, false);
  assert.match(timedOut.text, /no message arrived for role "api" within 1 s; nothing was consumed/);

  const waiting = api.call("bridge_wait", { timeoutSeconds: 60 });
  // The wait is armed once the server has answered something sent after it (requests are handled in order).
  await api.call("bridge_whoami");
  await web.call("bridge_send", { to: "api", body: "your turn" });
  const woke = await waiting;
  assert.match(woke.text, /from web to api/);
  assert.match(woke.text, /your turn/);
  assert.match((await api.call("bridge_peek")).text, /^no unread/);

  // Mail that is already unread returns at once.
  await web.call("bridge_send", { to: "api", body: "already here" });
  assert.match((await api.call("bridge_wait", { timeoutSeconds: 600 })).text, /already here/);
});

test("a cancelled bridge_wait consumes nothing and the server keeps serving", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  const api = await room.join("shop", "api");
  const controller = new AbortController();
  const waiting = api.call("bridge_wait", { timeoutSeconds: 600 }, { signal: controller.signal });
  await api.call("bridge_whoami");
  controller.abort();
  await assert.rejects(waiting);
  await web.call("bridge_send", { to: "api", body: "after the cancel" });
  assert.match((await api.call("bridge_recv")).text, /after the cancel/);
});

test("concurrent bridge_wait and bridge_recv of one role get each message once", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  const a = await room.join("shop", "api");
  const b = await room.join("shop", "api");
  const waits = [a.call("bridge_wait", { timeoutSeconds: 2 }), b.call("bridge_wait", { timeoutSeconds: 2 })];
  await Promise.all([a.call("bridge_whoami"), b.call("bridge_whoami")]);
  for (let i = 0; i < 20; i++) await web.call("bridge_send", { to: "api", body: `n${i}` });
  const texts = (await Promise.all(waits)).map((r) => r.text);
  texts.push((await a.call("bridge_recv", { limit: 200 })).text, (await b.call("bridge_recv", { limit: 200 })).text);
  const seen = texts.join("\n").match(/^ {2}n\d+$/gm) ?? [];
  assert.deepEqual([...seen].map((s) => s.trim()).sort(), Array.from({ length: 20 }, (_, i) => `n${i}`).sort());
});

test("roles shows liveness: a killed server's role is not live; a session whose claude process is gone is not live", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const web = await room.join("shop", "web");
  const api = await room.join("shop", "api");
  const claude = room.fakeClaude();
  await room.join("shop", "qa", {
    CLAUDE_PID: String(claude.pid),
    CLAUDE_CODE_SESSION_ID: "sess-qa",
    TMUX: "/tmp/tmux-0/default,123,0",
    TMUX_PANE: "%7",
  });

  const before = (await web.call("bridge_roles")).text;
  assert.match(before, /- api: live: MCP server pid \d+ \(not under Claude Code\)/);
  assert.match(before, /- web \(you\): live/);
  assert.match(before, /- qa: live: tmux pane %7 \(socket \/tmp\/tmux-0\/default\), last seen/);
  assert.match(before, /Claude session sess-qa/);

  process.kill(api.pid, "SIGKILL");
  claude.kill("SIGKILL");
  await waitFor("claude stand-in to exit", () => (claude.exitCode !== null || claude.signalCode !== null ? true : undefined));
  const after = (await web.call("bridge_roles")).text;
  assert.match(after, /- api: not live \(last session: MCP server pid \d+ .*process gone\)/);
  assert.match(after, /- qa: not live/);
  assert.match(after, /- web \(you\): live/);
});

test("a server stopped by its client marks its session ended; the record names the claude pid, session id and tmux pane", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  const claude = room.fakeClaude();
  const web = await room.join("shop", "web", {
    CLAUDE_PID: String(claude.pid),
    CLAUDE_CODE_SESSION_ID: "s-123",
    CLAUDE_CODE_ENTRYPOINT: "cli",
    TMUX: "/tmp/tmux-1000/default,4242,0",
    TMUX_PANE: "%3",
  });
  const dir = join(room.root, "projects/shop/web");
  assert.ok(readdirSync(dir).includes("inbox.jsonl"), "the inbox exists from the start");
  const record = JSON.parse(readFileSync(join(dir, "sessions", `${claude.pid}.json`), "utf8"));
  assert.equal(record.pid, claude.pid);
  assert.equal(record.sessionId, "s-123");
  // Not guessed from entrypoint cli (a TUI or a `claude --bg` session): the hooks record it.
  assert.equal(record.attended, undefined);
  assert.deepEqual(record.tmux, { pane: "%3", socket: "/tmp/tmux-1000/default" });
  assert.equal(record.mcpPid, web.pid);
  assert.equal(record.endedAt, undefined);
  await web.close();
  const ended = JSON.parse(readFileSync(join(dir, "sessions", `${claude.pid}.json`), "utf8"));
  assert.match(ended.endedAt, /^\d{4}-/);
  const roles = spawnSync(process.execPath, [BIN, "roles", "--json"], {
    env: { ...process.env, BRIDGE_ROOT: room.root, BRIDGE_PROJECT: "shop" },
    encoding: "utf8",
  });
  assert.equal(JSON.parse(roles.stdout).roles.find((r: { role: string }) => r.role === "web").live, false);
});

test("two live sessions claiming one role: whoami warns the second, roles lists both", async (t) => {
  const room = new Room();
  t.after(() => room.cleanup());
  await room.join("shop", "web");
  const second = await room.join("shop", "web");
  const who = (await second.call("bridge_whoami")).text;
  assert.match(who, /warning: 1 other live session also claims role "web": MCP server pid \d+/);
  const roles = (await second.call("bridge_roles")).text;
  assert.match(roles, /2 live sessions claim this role/);
  assert.equal((roles.match(/MCP server pid/g) ?? []).length, 2);
});
