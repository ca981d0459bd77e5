// Half an identity with the real Claude Code: a session started with BRIDGE_PROJECT but no
// BRIDGE_ROLE is told so where the user looks (the TUI shows our hooks' systemMessage at start
// and on each prompt), the model gets it as context too, and the guard still denies `git commit`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeSandbox, runHeadless, startTui } from "./claude.ts";
import { callTool, reply, startModelServer, systemMessages, toolResults, type ModelServer } from "./model-server.ts";
import { installBridge } from "./bridge.ts";

let server: ModelServer;
before(async () => {
  server = await startModelServer();
});
after(() => server.close());

const PROBLEM = /BRIDGE_ROLE is not set\. To fix it, restart Claude Code with both set to names/;

test("half an identity: the TUI shows what is wrong at start and on a prompt, the model is told, the guard still denies", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  const root = join(box.root, "bridge");
  installBridge(box);
  const half = { ...box.env, BRIDGE_ROOT: root, BRIDGE_PROJECT: "shop" };

  server.script("half-tui", [reply("HALF-REPLY")]);
  const tui = await startTui({ t, cwd: box.cwd, env: { ...half, ANTHROPIC_BASE_URL: server.baseUrl("half-tui") } });
  // Claude Code 2.1.328 shows a hook's systemMessage as "<event> says: <text>": SessionStart's is
  // on screen before anything is typed, UserPromptSubmit's under each prompt.
  await tui.waitFor("SessionStart:startup says: session-bridge:", 20_000);
  await tui.submit("hello there");
  await tui.waitFor("HALF-REPLY", 20_000);
  // Claude Code wraps the text itself: compare it with the line breaks folded.
  const screen = tui.capture().replace(/\s+/g, " ");
  for (const event of ["SessionStart:startup", "UserPromptSubmit"])
    assert.match(
      screen,
      new RegExp(
        `${event} says: session-bridge: this session is not connected to a bridge project, though its environment tries to: BRIDGE_ROLE is not set\\. To fix it`,
      ),
    );
  const [turn] = server.findRequests((r) => r.kind === "turn" && r.route === "half-tui");
  const context = systemMessages(turn!).join("\n");
  assert.match(context, /hook additional context: session-bridge: this session is not connected to a bridge project/);
  assert.match(context, PROBLEM);
  assert.match(context, /tell the user\./);

  const commit = callTool("Bash", { command: "git commit -m x", description: "commit" }, "toolu_half");
  server.script("half-guard", [commit, reply("refused")]);
  const r = await runHeadless({
    cwd: box.cwd,
    env: { ...half, ANTHROPIC_BASE_URL: server.baseUrl("half-guard") },
    prompt: "commit it",
    args: ["--allowedTools", "Bash"],
  });
  assert.equal(r.code, 0, r.stderr);
  const turns = server.findRequests((q) => q.kind === "turn" && q.route === "half-guard");
  const [denied] = toolResults(turns.at(-1)!);
  assert.equal(denied!.is_error, true);
  assert.match(denied!.text, /^PreToolUse:Bash hook error: session-bridge guard: `git commit` is blocked in this bridged session/);
  assert.match(denied!.text, /This session counts as bridged for the guard: it is not connected to a bridge project/);
});
