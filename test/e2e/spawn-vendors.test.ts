// The spawn driver with every vendor, all real binaries against scripted model servers on
// 127.0.0.1: one daemon wakes a Codex role (`codex exec`) and a Gemini role (`gemini -p`) through
// the hooks `install --agent` wrote; each run's model request carries its mail. A Claude Code role
// and the Codex role ping-pong with nobody typing until the rails stop them at maxHops, and the
// Codex role's second run resumes its own first thread (`codex exec resume`), as the Gemini role's
// second run does its session (`gemini --resume`). The Codex run is
// refused, saying why, until a person has approved our hooks in Codex's TUI.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { BIN } from "../helpers/bin.ts";
import { makeSandbox } from "./claude.ts";
import { callTools as claudeCalls, reply as claudeReply, requestText, startModelServer } from "./model-server.ts";
import {
  bridgeOk,
  daemonLog,
  describeDaemonLog,
  inbox,
  installBridge,
  pathWith,
  readJson,
  roleDir,
  sessionRecords,
  spawnerStatus,
  startDaemon,
  waitFor,
} from "./bridge.ts";
import { CODEX_BIN, makeCodexSandbox, onCleanup } from "./codex.ts";
import { callTools as codexCalls, functionOutputs, messageTexts, reply as codexReply, startOpenAIServer } from "./openai-server.ts";
import { GEMINI_MODEL, makeGeminiSandbox } from "./gemini.ts";
import {
  callTools as geminiCalls,
  functionResponses,
  lastUserParts,
  offeredTools,
  reply as geminiReply,
  startGeminiServer,
} from "./gemini-server.ts";
import { startTui } from "./tui.ts";
import { DEFAULT_NUDGE } from "../../src/settings/schema.ts";

const FROM_WEB = /<message boundary="[0-9a-f]+" id="([^"]+)" from="web"/g;
const FROM_CX = /<message boundary="[0-9a-f]+" id="([^"]+)" from="cx"/g;
const lastId = (text: string, re: RegExp): string | undefined => [...text.matchAll(re)].at(-1)?.[1];

test("spawn driver: Codex and Gemini roles woken headless with their mail; a Claude ↔ Codex ping-pong stops at maxHops; Codex resumes its own thread", async (t) => {
  const anthropic = await startModelServer();
  onCleanup(t, () => anthropic.close());
  const openai = await startOpenAIServer();
  onCleanup(t, () => openai.close());
  const google = await startGeminiServer();
  onCleanup(t, () => google.close());

  const claudeBox = makeSandbox(t, { baseUrl: anthropic.url });
  installBridge(claudeBox);
  const codexBox = makeCodexSandbox(t, { baseUrl: openai.url });
  execFileSync(process.execPath, [BIN, "install", "--agent", "codex"], { env: codexBox.env });
  const geminiBox = makeGeminiSandbox(t, { baseUrl: google.url });
  execFileSync(process.execPath, [BIN, "install", "--agent", "gemini"], { env: geminiBox.env });

  // One person's environment holds all three CLIs' homes and their (local) model servers.
  const pick = (env: Record<string, string>, names: string[]) => Object.fromEntries(names.filter((n) => env[n]).map((n) => [n, env[n]!]));
  const root = join(claudeBox.root, "bridge");
  const human: Record<string, string> = {
    ...claudeBox.env,
    ...pick(codexBox.env, ["CODEX_HOME", "E2E_MODEL_API_KEY"]),
    ...pick(geminiBox.env, [
      "GEMINI_CLI_HOME",
      "GEMINI_API_KEY",
      "GOOGLE_GEMINI_BASE_URL",
      "GEMINI_CLI_SYSTEM_SETTINGS_PATH",
      "GEMINI_CLI_SYSTEM_DEFAULTS_PATH",
    ]),
    BRIDGE_ROOT: root,
    PATH: pathWith({ claude: true }),
  };
  bridgeOk(human, ["spawner", "on"]);
  bridgeOk(human, ["spawner", "config", "driver=spawn", "maxHops=3", "cooldownSeconds=0"]);
  bridgeOk(human, ["spawner", "set", "--force", "shop", "web", `cwd=${claudeBox.cwd}`]);
  bridgeOk(human, ["spawner", "set", "--force", "shop", "cx", `cwd=${codexBox.cwd}`, "agent=codex", "resume=true"]);
  bridgeOk(human, [
    "spawner",
    "set",
    "--force",
    "shop",
    "gm",
    `cwd=${geminiBox.cwd}`,
    "agent=gemini",
    `model=${GEMINI_MODEL}`,
    "resume=true",
  ]);
  const target = (role: string) => spawnerStatus(human).roles.find((r: any) => r.role === role).target as string;

  // Codex skips unapproved hooks silently: the spawn driver refuses and says what to do.
  assert.match(
    target("cx"),
    /^cannot spawn: not spawning codex for shop\/cx: Codex skips hooks nobody approved, without a word, and UserPromptSubmit hook recv and PreToolUse hook guard have no approval in .*config\.toml; start `codex` once and choose "Trust all and continue"/,
  );
  const tui = await startTui({
    t,
    bin: CODEX_BIN,
    args: ["--no-daemon"],
    cwd: codexBox.cwd,
    env: codexBox.env,
    ready: /Hooks need review/,
    readyTimeoutMs: 30_000,
  });
  await tui.waitFor("2. Trust all and continue", 10_000);
  tui.press("2");
  tui.press("Enter");
  await waitFor(
    "the approvals in config.toml",
    () => target("cx").startsWith("codex exec"),
    20_000,
    () => target("cx"),
  );
  await tui.kill();
  assert.equal(target("cx"), `codex exec in ${codexBox.cwd} (resume: no earlier codex session of the role to resume: a fresh run)`);
  assert.equal(target("gm"), `gemini -p in ${geminiBox.cwd} (resume: no earlier gemini session of the role to resume: a fresh run)`);

  // Claude role web: answers the newest message from cx.
  let webAnswers = 0;
  anthropic.script("", (req, { turn }) => {
    const id = lastId(requestText(req), FROM_CX);
    if (turn > 0 || !id) return claudeReply("web done");
    webAnswers += 1;
    return claudeCalls([{ name: "mcp__session-bridge__bridge_send", input: { to: "cx", body: `web-answer-${webAnswers}`, replyTo: id } }]);
  });
  // Codex role cx: answers the newest message from web, once per message (a resumed thread holds the older ones).
  openai.script("", (req) => {
    const id = lastId(messageTexts(req, "developer").join("\n"), FROM_WEB);
    if (!id || functionOutputs(req).some((o) => o.call_id === `send-${id}`)) return codexReply("cx done");
    return codexCalls([
      { name: "mcp__session_bridge__bridge_send", input: { to: "web", body: `cx-answer-to-${id}`, replyTo: id }, id: `send-${id}` },
    ]);
  });
  // Gemini role gm: answers its first mail to qa (a default-off role: nobody is woken for it).
  google.script("", (req) => {
    const send = offeredTools(req).find((n) => n.endsWith("bridge_send"));
    if (functionResponses(req).length === 0 && send)
      return geminiCalls([{ name: send, input: { to: "qa", body: "GM-ANSWER-77", queue: true } }]);
    return geminiReply(lastUserParts(req).some((p) => p.includes("SECOND-TO-GEMINI")) ? "gm resumed" : "gm done");
  });

  await startDaemon(t, { ...human, BRIDGE_ADMIN: "1" });
  const toGm = JSON.parse(bridgeOk(human, ["send", "--json", "--queue", "--project", "shop", "--role", "web", "gm", "TO-GEMINI-5c2e"]));
  const kickoff = JSON.parse(
    bridgeOk(human, ["send", "--json", "--queue", "--project", "shop", "--role", "web", "cx", "KICKOFF-CODEX-9a41"]),
  );

  // Runs: cx@0 (codex), web@1 (claude), cx@2 (codex, resumed), gm@0 (gemini); web is not woken for hop 3.
  const refused = await waitFor(
    "the loop guard to refuse waking web, and four runs to end",
    () => {
      const wake = readJson(join(roleDir(root, "shop", "web"), "wake.json"));
      return wake?.lastRefusal?.code === "hops" && daemonLog(root).filter((e) => e.event === "run-end").length === 4 && wake.lastRefusal;
    },
    180_000,
    () => describeDaemonLog(root),
  );
  assert.match(refused.reason, /^loop guard: chain \S+ reached hop 3 \(maxHops 3\)/);
  for (const end of daemonLog(root).filter((e) => e.event === "run-end")) assert.match(end.msg, / exit 0 after/, end.msg);

  // One chain across two vendors, each answer tied to the message that woke its run.
  const [m0, m2, ...restCx] = inbox(root, "shop", "cx");
  const [m1, m3, ...restWeb] = inbox(root, "shop", "web");
  assert.deepEqual([restCx.length, restWeb.length], [0, 0]);
  const chain = [m0!, m1!, m2!, m3!];
  assert.equal(m0!.id, kickoff.id);
  assert.deepEqual(
    chain.map((m) => [m.from, m.to, m.hop, m.chain]),
    [
      ["web", "cx", 0, kickoff.chain],
      ["cx", "web", 1, kickoff.chain],
      ["web", "cx", 2, kickoff.chain],
      ["cx", "web", 3, kickoff.chain],
    ],
  );
  assert.deepEqual(
    chain.slice(1).map((m) => m.replyTo),
    chain.slice(0, 3).map((m) => m.id),
  );

  // Each Codex run got the nudge as its prompt and its mail through `hook recv --agent codex`.
  const codexFirsts = openai.findRequests((r) => r.kind === "turn" && functionOutputs(r).every((o) => !o.call_id.startsWith("send-")));
  assert.equal(codexFirsts.length, 1, "the first Codex run's first request");
  assert.ok(messageTexts(codexFirsts[0]!, "user").some((m) => m.includes(DEFAULT_NUDGE)));
  assert.ok(messageTexts(codexFirsts[0]!, "developer").some((m) => m.includes("KICKOFF-CODEX-9a41") && m.includes('hop="0"')));
  // The second run resumed the first one's thread: its request holds the kickoff and its own answer, then the new mail.
  // Both runs' session records name one thread: `exec resume` goes on in the same thread.
  // (Under Codex our MCP server also leaves a record of its own, with no session id.)
  const threads = new Set(
    sessionRecords(root, "shop", "cx")
      .map((r) => r.sessionId)
      .filter((id) => id !== undefined),
  );
  assert.equal(threads.size, 1, [...threads].join(", "));
  const [thread] = threads;
  const starts = daemonLog(root).filter((e) => e.event === "run-start" && e.role === "cx");
  assert.deepEqual(
    starts.map((e) => e.resumed ?? null),
    [null, `codex session ${thread}`],
  );
  const resumed = openai.findRequests((r) => r.kind === "turn" && messageTexts(r, "developer").some((m) => m.includes("web-answer-1")))[0]!;
  const developer = messageTexts(resumed, "developer").join("\n");
  assert.ok(developer.includes("KICKOFF-CODEX-9a41"), "the earlier mail is in the resumed thread");
  assert.ok(
    functionOutputs(resumed).some((o) => o.call_id === `send-${kickoff.id}`),
    "so is the earlier answer",
  );
  assert.equal(spawnerStatus(human).roles.find((r: any) => r.role === "cx").lastRun.resumed, `codex session ${thread}`);

  // The Gemini run: its mail in the model request (hook recv --agent gemini), its answer through bridge_send.
  const geminiFirst = google.findRequests((r) => r.kind === "turn")[0]!;
  const parts = lastUserParts(geminiFirst);
  assert.ok(parts.some((p) => p.includes(DEFAULT_NUDGE)));
  assert.ok(parts.some((p) => p.includes("TO-GEMINI-5c2e") && p.includes(`id="${toGm.id}"`)));
  const [answer] = inbox(root, "shop", "qa");
  assert.deepEqual([answer?.from, answer?.body, answer?.hop], ["gm", "GM-ANSWER-77", 1]);

  // With resume on, gm's next wake continues its own Gemini session (`gemini --resume ID`).
  const gmSession = sessionRecords(root, "shop", "gm").find((r) => r.agent === "gemini")?.sessionId;
  assert.ok(gmSession, "the Gemini run's hook recorded its session");
  bridgeOk(human, ["send", "--queue", "--project", "shop", "--role", "web", "gm", "SECOND-TO-GEMINI-e07b"]);
  await waitFor(
    "gm's resumed run to end",
    () => daemonLog(root).filter((e) => e.event === "run-end").length === 5,
    120_000,
    () => describeDaemonLog(root),
  );
  assert.equal(daemonLog(root).filter((e) => e.event === "run-start" && e.role === "gm")[1]?.resumed, `gemini session ${gmSession}`);
  const second = google.findRequests((r) => r.kind === "turn" && lastUserParts(r).some((p) => p.includes("SECOND-TO-GEMINI-e07b")))[0]!;
  const history = JSON.stringify(second.body.contents);
  assert.ok(
    history.includes("TO-GEMINI-5c2e") && history.includes("GM-ANSWER-77"),
    "the earlier mail and answer are in the resumed session",
  );
  // Which CLI ran each wake.
  assert.deepEqual(
    daemonLog(root)
      .filter((e) => e.event === "run-start")
      .map((e) => `${e.role}:${e.agent}`)
      .sort(),
    ["cx:codex", "cx:codex", "gm:gemini", "gm:gemini", "web:claude"],
  );
  assert.deepEqual([anthropic.unscripted.length, openai.unscripted.length, google.unscripted.length], [0, 0, 0]);
});
