// The spawn driver's `resume`: a role whose Claude Code session has ended is woken by continuing
// that very session headless (`claude -p --resume ID`, real Claude Code against the scripted
// model), so the woken run still has the conversation it had, plus the new mail through `hook recv`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { makeSandbox, onCleanup, runHeadless } from "./claude.ts";
import { reply, requestText, startModelServer, systemMessages, type ModelRequest } from "./model-server.ts";
import {
  bridgeOk,
  daemonLog,
  describeDaemonLog,
  installBridge,
  pathWith,
  roleEnv,
  sessionRecords,
  spawnerStatus,
  startDaemon,
  waitFor,
} from "./bridge.ts";
import { describeRun } from "./cli-run.ts";
import { DEFAULT_NUDGE } from "../../src/settings/schema.ts";

const CODE_WORD = "PELICAN-5521";
const MAIL = "MAIL-FOR-API-3f1c";

test("resume: a closed Claude role's own session is continued headless; its earlier messages and the new mail reach the model", async (t) => {
  const server = await startModelServer();
  onCleanup(t, () => server.close());
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  installBridge(box);
  const human = { ...box.env, BRIDGE_ROOT: root };
  server.script("", (req) => (requestText(req).includes(MAIL) ? reply("RESUMED-ANSWER") : reply(`noted ${CODE_WORD}`)));

  // 1. A person works as shop/api once, then the session ends: its record stays, not live.
  const first = await runHeadless({
    cwd: box.cwd,
    env: roleEnv(box.env, root, "shop", "api"),
    prompt: `remember the code word ${CODE_WORD}`,
  });
  assert.equal(first.code, 0, describeRun("claude", first));
  const records = sessionRecords(root, "shop", "api");
  assert.equal(records.length, 1);
  const sessionId = records[0]?.sessionId ?? "";
  assert.match(sessionId, /^[0-9a-f-]{36}$/);

  // 2. The role is woken by the spawn driver with resume on.
  bridgeOk(human, ["spawner", "on"]);
  bridgeOk(human, ["spawner", "config", "driver=spawn", "cooldownSeconds=0"]);
  bridgeOk(human, ["spawner", "set", "shop", "api", `cwd=${box.cwd}`, "resume=true"]);
  assert.equal(
    spawnerStatus(human).roles.find((r: any) => r.role === "api").target,
    `claude -p in ${box.cwd}, resuming its claude session ${sessionId}`,
  );
  await startDaemon(t, { ...human, PATH: pathWith({ claude: true }) });
  bridgeOk(human, ["send", "--queue", "--project", "shop", "--role", "web", "api", MAIL]);
  const end = await waitFor(
    "the resumed run to end",
    () => daemonLog(root).find((e) => e.event === "run-end"),
    90_000,
    () => describeDaemonLog(root),
  );
  assert.match(end.msg, /^claude -p exit 0 after/);

  // The woken run's request: the earlier conversation, the nudge, and the mail as hook context.
  const woken = server.findRequests((r) => r.kind === "turn" && requestText(r).includes(MAIL));
  assert.equal(woken.length, 1, "one turn request of the resumed run");
  const req: ModelRequest = woken[0]!;
  const said = (req.body.messages as any[]).map(
    (m) => `${m.role}: ${typeof m.content === "string" ? m.content : JSON.stringify(m.content)}`,
  );
  assert.ok(
    said.some((m) => m.startsWith("user: ") && m.includes(`remember the code word ${CODE_WORD}`)),
    said.join("\n"),
  );
  assert.ok(
    said.some((m) => m.startsWith("assistant: ") && m.includes(`noted ${CODE_WORD}`)),
    said.join("\n"),
  );
  // Seen on 2.1.328: the resumed request ends with the nudge as the user's prompt, then the
  // SessionStart (source "resume") hook context, which carried the mail.
  const nudge = said.findLastIndex((m) => m.startsWith("user: ") && m.includes(DEFAULT_NUDGE));
  assert.ok(nudge > said.findIndex((m) => m.includes(`noted ${CODE_WORD}`)), said.join("\n"));
  assert.ok(systemMessages(req).join("\n").includes(MAIL), "the mail came through hook recv");

  // Which session was resumed: the daemon log, the run log's header, spawner status.
  const start = daemonLog(root).find((e) => e.event === "run-start")!;
  assert.equal(start.resumed, `claude session ${sessionId}`);
  assert.match(start.msg, new RegExp(`^claude -p in ${box.cwd}, resuming its claude session ${sessionId} started`));
  assert.match(readFileSync(start.log as string, "utf8"), new RegExp(`^# chain \\S+ hop 1; resuming claude session ${sessionId}$`, "m"));
  const api = spawnerStatus(human).roles.find((r: any) => r.role === "api");
  assert.equal(api.lastRun.resumed, `claude session ${sessionId}`);
  assert.match(
    bridgeOk(human, ["spawner", "status"]),
    new RegExp(`last run: exit 0 after [\\d.]+ s \\(resumed claude session ${sessionId}\\)`),
  );
  const after = sessionRecords(root, "shop", "api").map((r) => r.sessionId);
  // 2.1.328 keeps the session id on `-p --resume`: the run's own record names the same session,
  // so the next wake continues it again.
  assert.deepEqual(after, [sessionId, sessionId]);
  assert.deepEqual(server.unscripted, []);
});
