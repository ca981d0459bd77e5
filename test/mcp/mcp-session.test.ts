// The session record an MCP server keeps: fresh while it runs, reclaimed if another server of the
// same claude process ended it, ended on stop only by the server that owns it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rolePaths } from "../../src/bus/layout.ts";
import { keepSession, sessionForServer } from "../../src/mcp/session.ts";
import { endSession, registerSession } from "../../src/bus/sessions.ts";

const read = (path: string) => JSON.parse(readFileSync(path, "utf8"));
const until = async (what: string, check: () => boolean): Promise<void> => {
  const deadline = Date.now() + 5000;
  while (!check()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test("lastSeen is refreshed; a record ended by another server is reclaimed; stop ends only its own record", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "sb-session-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const paths = rolePaths(root, "shop", "web");
  const info = { pid: process.pid, mcpPid: process.pid, attended: true };
  const keeper = keepSession(paths, info, () => {}, 20);
  t.after(() => keeper.stop());
  const file = join(paths.sessions, `${process.pid}.json`);
  const first = read(file).lastSeen;
  await until("lastSeen to move", () => read(file).lastSeen !== first);

  endSession(paths, process.pid);
  await until("the record to be reclaimed", () => read(file).endedAt === undefined);

  // A newer server of the same claude process took the record over: stopping must not end it.
  registerSession(paths, { ...info, mcpPid: process.pid + 1 });
  keeper.stop();
  assert.equal(read(file).endedAt, undefined);
  assert.equal(read(file).mcpPid, process.pid + 1);

  const own = keepSession(rolePaths(root, "shop", "api"), info, () => {}, 60_000);
  own.stop();
  assert.match(read(join(root, "projects/shop/api/sessions", `${process.pid}.json`)).endedAt, /^\d{4}-/);
});

test("which pid stands for the session: CLAUDE_PID, else a claude parent, else the server itself", () => {
  const own = sessionForServer({ CLAUDE_CODE_ENTRYPOINT: "sdk-cli" }, 1);
  assert.equal(own.pid, process.pid);
  assert.equal(own.entrypoint, "sdk-cli");
  assert.equal(own.attended, false);
  assert.equal(sessionForServer({}, 1).entrypoint, "mcp-server");
  const viaEnv = sessionForServer({ CLAUDE_PID: "4242", CLAUDE_CODE_ENTRYPOINT: "cli", CLAUDE_CODE_SESSION_ID: "s1" }, 1);
  // cli is the TUI or a `claude --bg` session: the server cannot tell, the hooks can.
  assert.deepEqual([viaEnv.pid, viaEnv.attended, viaEnv.sessionId, viaEnv.mcpPid], [4242, undefined, "s1", process.pid]);
  assert.equal(
    sessionForServer({ CLAUDE_PID: "4242", CLAUDE_CODE_SESSION_ATTENDED: "0", CLAUDE_CODE_ENTRYPOINT: "cli" }, 1).attended,
    false,
  );
});

test("a background session's record stays unattended when its MCP server registers after the hook", (t) => {
  const root = mkdtempSync(join(tmpdir(), "sb-mcp-attended-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const paths = rolePaths(root, "shop", "bg");
  // SessionStart of `claude --bg`: the hook is told CLAUDE_CODE_SESSION_ATTENDED=0.
  registerSession(paths, { pid: process.pid, attended: false, entrypoint: "cli" });
  const server = keepSession(
    paths,
    sessionForServer({ CLAUDE_PID: String(process.pid), CLAUDE_CODE_ENTRYPOINT: "cli" }, 1),
    () => {},
    60_000,
  );
  t.after(() => server.stop());
  const record = read(join(root, "projects/shop/bg/sessions", `${process.pid}.json`));
  assert.equal(record.attended, false);
  assert.equal(record.mcpPid, process.pid);
});
