// Startup cases for bench/run.mjs: every hook (spawn → exit) and `mcp` (spawn → the tools/list
// answer, and spawn → the first tool call answered), each checked for the right output.
//
// The recv cases read an inbox of 100,000 already-read messages kept in the live file (compaction
// off): the worst case for "flat in history", since the cursor is a byte offset and none of it
// should be read. Before each "100 unread" run the cursor is moved back over the last 100.
import { closeSync, mkdirSync, openSync, statSync, writeFileSync, writeSync, rmSync } from "node:fs";
import { join } from "node:path";
import { envFor, runner, scratch, timeRun } from "./lib.mjs";

const PROJECT = "bench";
export const OLD = 100_000;
const UNREAD = 100;

function message(i, to) {
  return (
    JSON.stringify({
      id: `mbench${String(i).padStart(8, "0")}`,
      ts: new Date(1_700_000_000_000 + i * 1000).toISOString(),
      project: PROJECT,
      from: "backend",
      to,
      body: `result ${i}: the users table was migrated, 42 rows changed, tests green`,
      chain: "cbench",
      hop: 0,
    }) + "\n"
  );
}

/** A bridge root with roles idle (100,000 read), busy (+100 unread), fresh (no inbox) and backend. */
export function seedHookRoot() {
  const root = scratch("hooks");
  const roleDir = (role) => join(root, "projects", PROJECT, role);
  const seed = (role, unread) => {
    mkdirSync(join(roleDir(role), "sessions"), { recursive: true, mode: 0o700 });
    const inbox = join(roleDir(role), "inbox.jsonl");
    const fd = openSync(inbox, "w", 0o600);
    let chunk = "";
    for (let i = 0; i < OLD; i++) {
      chunk += message(i, role);
      if (chunk.length > 1 << 20) {
        writeSync(fd, chunk);
        chunk = "";
      }
    }
    writeSync(fd, chunk);
    const readTo = statSync(inbox).size;
    let tail = "";
    for (let i = 0; i < unread; i++) tail += message(OLD + i, role);
    writeSync(fd, tail);
    closeSync(fd);
    const cursor = () =>
      writeFileSync(join(roleDir(role), "cursor.json"), JSON.stringify({ ino: statSync(inbox).ino, offset: readTo }), { mode: 0o600 });
    cursor();
    return cursor;
  };
  // Compaction off, so the 100,000 read messages stay in the live inbox file.
  mkdirSync(join(root, "projects", PROJECT), { recursive: true, mode: 0o700 });
  writeFileSync(join(root, "bridge-settings.json"), JSON.stringify({ compactBytes: 1024 * 1024 * 1024 }), { mode: 0o600 });
  seed("idle", 0);
  const rewindBusy = seed("busy", UNREAD);
  mkdirSync(join(roleDir("fresh"), "sessions"), { recursive: true, mode: 0o700 });
  mkdirSync(roleDir("backend"), { recursive: true, mode: 0o700 });
  return { root, rewindBusy };
}

const SESSION = "0d9a7c1e-5b2f-4f7e-9a61-2c3d4e5f6a7b";
const common = { session_id: SESSION, transcript_path: "/tmp/t.jsonl", cwd: "/tmp", permission_mode: "default" };
const prompt = JSON.stringify({ ...common, hook_event_name: "UserPromptSubmit", prompt: "what is the status?" }) + "\n";
const bash = (command) =>
  JSON.stringify({ ...common, hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: { command }, tool_use_id: "toolu_1" }) + "\n";
const stop = JSON.stringify({ ...common, hook_event_name: "Stop", stop_hook_active: false, last_assistant_message: "done" }) + "\n";

/** What Claude Code puts in a hook's environment, on top of the inherited or clean one. */
function claudeEnv(mode, root, role) {
  return envFor(mode, {
    BRIDGE_ROOT: root,
    CLAUDECODE: "1",
    CLAUDE_PID: String(process.pid),
    CLAUDE_CODE_SESSION_ID: SESSION,
    CLAUDE_CODE_ENTRYPOINT: "cli",
    CLAUDE_CODE_SESSION_ATTENDED: "1",
    ...(role && { BRIDGE_PROJECT: PROJECT, BRIDGE_ROLE: role }),
  });
}

/**
 * Hook cases for one artifact. `group` ties each to its budget in run.mjs: "unbridged" (≤ 1.10),
 * "guard" (≤ 1.15), "recv" (≤ 1.25, flat in history), or "info" (shown, not judged).
 */
export function hookCases(artifact, label, mode, seeded, asClaudeRuns) {
  const { root, rewindBusy } = seeded;
  const argv = (name) => [...runner(artifact), "hook", name];
  const empty = (o) => o === "";
  const cases = [
    {
      group: "unbridged",
      name: `${label} hook recv, not bridged`,
      argv: argv("recv"),
      env: claudeEnv(mode, root),
      input: prompt,
      check: empty,
    },
    {
      group: "unbridged",
      name: `${label} hook guard, not bridged`,
      argv: argv("guard"),
      env: claudeEnv(mode, root),
      input: bash("git push"),
      check: empty,
    },
    {
      group: "unbridged",
      name: `${label} hook send, not bridged`,
      argv: argv("send"),
      env: claudeEnv(mode, root),
      input: stop,
      check: empty,
    },
    {
      group: "unbridged",
      name: `${label} hook wait, not bridged`,
      argv: argv("wait"),
      env: claudeEnv(mode, root),
      input: stop,
      check: empty,
    },
    {
      group: "guard",
      name: `${label} hook guard, allow (git status && npm test)`,
      argv: argv("guard"),
      env: claudeEnv(mode, root, "idle"),
      input: bash("git status && npm test"),
      check: empty,
    },
    {
      group: "guard",
      name: `${label} hook guard, deny (sh -c 'git push')`,
      argv: argv("guard"),
      env: claudeEnv(mode, root, "idle"),
      input: bash("sh -c 'git push'"),
      check: (o) => o.includes('"deny"'),
    },
    {
      group: "info",
      name: `${label} hook recv, 0 unread, no history`,
      argv: argv("recv"),
      env: claudeEnv(mode, root, "fresh"),
      input: prompt,
      check: empty,
    },
    {
      group: "recv",
      name: `${label} hook recv, 0 unread, 100,000 old`,
      argv: argv("recv"),
      env: claudeEnv(mode, root, "idle"),
      input: prompt,
      check: empty,
    },
    {
      group: "recv",
      name: `${label} hook recv, 100 unread, 100,000 old`,
      argv: argv("recv"),
      env: claudeEnv(mode, root, "busy"),
      input: prompt,
      before: rewindBusy,
      // Injection stops at 10,000 characters (the rest waits for bridge_recv): the first unread is there.
      check: (o) => o.includes("additionalContext") && o.includes(`mbench${String(OLD).padStart(8, "0")}`),
    },
  ];
  if (!asClaudeRuns) return cases;
  // The same runs as Claude Code starts them, `sh -c "<the command install wrote>"` (shown, not
  // judged: the budgets compare what install points at with `node -e 0`, both started directly).
  const shown = [
    `${label} hook recv, not bridged`,
    `${label} hook guard, allow (git status && npm test)`,
    `${label} hook recv, 100 unread, 100,000 old`,
  ];
  const viaShell = cases
    .filter((c) => shown.includes(c.name))
    .map((c) => ({ ...c, group: "info", name: `${c.name}, as Claude Code runs it`, argv: ["/bin/sh", "-c", asClaudeRuns[c.argv.at(-1)]] }));
  // And as installs before `exec` wrote the command (src/install/plan.ts hookCommand): sh forks it and waits.
  const withoutExec = viaShell
    .slice(0, 2)
    .map((c) => ({ ...c, name: `${c.name}, without exec`, argv: ["/bin/sh", "-c", c.argv[2].replace(/^exec /, "")] }));
  return [...cases, ...viaShell, ...withoutExec];
}

const rpc = (messages) => messages.map((m) => JSON.stringify({ jsonrpc: "2.0", ...m }) + "\n").join("");
// What Claude Code sends at once: its server/discover probe, then the handshake and tools/list.
const HANDSHAKE = [
  { id: 0, method: "server/discover", params: {} },
  { id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "0" } } },
  { method: "notifications/initialized" },
  { id: 2, method: "tools/list" },
];
const answered = (id) => (out) => out.split("\n").some((l) => l.startsWith("{") && JSON.parse(l).id === id);

/**
 * `mcp` cases for one artifact: spawn → tools/list answered (group "mcp"), and spawn → the first
 * tool call answered ("info"), which loads the SDK (its code cache warm: the .mjs writes one under
 * <root>/cache on its first run, which the warm-up rounds do; the executable carries its own).
 */
export function mcpCases(artifact, label, mode) {
  const root = scratch("mcp");
  const env = envFor(mode, { BRIDGE_ROOT: root, BRIDGE_PROJECT: PROJECT, BRIDGE_ROLE: "web" });
  const listed = (out) => {
    const line = out.split("\n").find((l) => l.startsWith("{") && JSON.parse(l).id === 2);
    return line !== undefined && JSON.parse(line).result?.tools?.length > 0;
  };
  // Each run registers a session record: drop them so the roles stay small.
  const tidy = () => rmSync(join(root, "projects", PROJECT, "web", "sessions"), { recursive: true, force: true });
  return [
    {
      group: "mcp",
      name: `${label} mcp spawn → tools/list`,
      argv: [...runner(artifact), "mcp"],
      env,
      input: rpc(HANDSHAKE),
      until: answered(2),
      check: listed,
      before: tidy,
    },
    {
      group: "info",
      name: `${label} mcp spawn → first tools/call answered`,
      argv: [...runner(artifact), "mcp"],
      env,
      input: rpc([...HANDSHAKE, { id: 3, method: "tools/call", params: { name: "bridge_whoami", arguments: {} } }]),
      until: answered(3),
      check: (out) => out.includes('you are role \\"web\\"'),
      before: tidy,
    },
  ];
}

/**
 * What the server hands the model before any call, in bytes of JSON: the tools/list result
 * (every tool's name, description, schema and annotations; Claude Code keeps them in context, or
 * behind its tool search) and the initialize `instructions`, as a non-admin and an admin session.
 */
export async function listingSizes(artifact) {
  const sizes = {};
  for (const admin of [false, true]) {
    const root = scratch("listing");
    const env = envFor("clean", { BRIDGE_ROOT: root, BRIDGE_PROJECT: PROJECT, BRIDGE_ROLE: "web", ...(admin && { BRIDGE_ADMIN: "1" }) });
    let result;
    await timeRun({
      name: `listing${admin ? " (admin)" : ""}`,
      argv: [...runner(artifact), "mcp"],
      env,
      input: rpc(HANDSHAKE),
      until: answered(2),
      check: (out) => {
        const answers = out
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l));
        result = { init: answers.find((a) => a.id === 1)?.result, list: answers.find((a) => a.id === 2)?.result };
        return result.init !== undefined && result.list?.tools?.length > 0;
      },
    });
    const bytes = (value) => Buffer.byteLength(JSON.stringify(value));
    sizes[admin ? "admin" : "nonAdmin"] = {
      tools: result.list.tools.length,
      listBytes: bytes(result.list),
      instructionsBytes: Buffer.byteLength(result.init.instructions ?? ""),
    };
  }
  return sizes;
}
