// The git shim with the real Claude Code 2.1.328, wired only by our own `session-bridge install`:
// SessionStart writes the session's env file, and a later Bash command that pushes from inside a
// script — where no reading of the command line can see it — is stopped at exec time, while
// `git status` runs. The shim follows the session through --resume, --continue and /clear, and an
// unbridged resume drops it (docs/claude-code.md "Session environment").
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { makeSandbox, runHeadless, startTui, type RunResult, type Sandbox } from "./claude.ts";
import { callTool, reply, startModelServer, toolResults, type ModelRequest, type ModelServer, type Script } from "./model-server.ts";
import { installBridge, roleEnv, waitFor } from "./bridge.ts";

let server: ModelServer;
before(async () => {
  server = await startModelServer();
});
after(() => server.close());

function assertOk(r: RunResult): void {
  assert.equal(r.code, 0, `claude exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
}

function git(cwd: string, ...args: string[]): { status: number | null; out: string } {
  const r = spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1" },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

const bash = (command: string, id: string) => callTool("Bash", { command, description: "run it" }, id);

/** True when the request's last user message carries a tool result (the probe came back). */
function answered(req: ModelRequest): boolean {
  const msgs: any[] = req.body?.messages ?? [];
  const last = msgs.filter((m) => m.role === "user").at(-1);
  return Array.isArray(last?.content) && last.content.some((b: any) => b.type === "tool_result");
}

/** One Bash call per prompt: the probe, then a reply quoting its result. */
function probe(command: string): Script {
  return (req: ModelRequest) =>
    answered(req) ? reply(`probed: ${toolResults(req).at(-1)?.text}`) : bash(command, `toolu_probe_${req.seq}`);
}

/** Session folders whose env file holds our lines. */
function shimmedSessions(box: Sandbox): string[] {
  const dir = join(box.configDir, "session-env");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((s) => {
    const file = join(dir, s, "sessionstart-hook-0.sh");
    return existsSync(file) && readFileSync(file, "utf8").startsWith("# session-bridge git shim");
  });
}

/** The text of the last Bash result the model got on `route`. */
function lastResult(route: string): string {
  const turns = server.findRequests((r) => r.kind === "turn" && r.route === route);
  return toolResults(turns.at(-1)!).at(-1)?.text ?? "(no tool result)";
}

function bridged(box: Sandbox, route: string, extra: Record<string, string> = {}): Record<string, string> {
  return roleEnv(box.env, join(box.root, "bridge"), "shop", "backend", { ANTHROPIC_BASE_URL: server.baseUrl(route), ...extra });
}

test("shim: a bridged session's push from a script is stopped at exec time; git status runs", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  installBridge(box);
  const repo = box.cwd;
  const remote = join(box.root, "remote.git");
  git(box.root, "init", "-q", "--bare", remote);
  git(repo, "init", "-q", "-b", "main");
  git(repo, "config", "user.email", "e2e@example.invalid");
  git(repo, "config", "user.name", "e2e");
  git(repo, "remote", "add", "origin", remote);
  writeFileSync(join(repo, "app.txt"), "v1\n");
  git(repo, "add", "app.txt");
  git(repo, "commit", "-q", "-m", "first");
  // Written by someone else, read by no parser: only exec time can see the push inside.
  writeFileSync(join(repo, "push.sh"), "git push origin main\n");
  server.script("shim", [
    bash('bash push.sh; echo "rc=$?"', "toolu_script"),
    bash('cat push.sh | bash; echo "rc=$?"', "toolu_pipe"),
    bash('git status --short; echo "rc=$?"; command -v git', "toolu_status"),
    reply("done"),
  ]);
  assertOk(await runHeadless({ cwd: repo, env: bridged(box, "shim"), prompt: "publish it", args: ["--allowedTools", "Bash"] }));
  const turns = server.findRequests((r) => r.kind === "turn" && r.route === "shim");
  const [script, pipe, status] = [1, 2, 3].map((i) => toolResults(turns[i]!).at(-1));
  assert.match(script!.text, /session-bridge git shim: `git push` is blocked in this bridged session[\s\S]*rc=126/);
  // The guard may one day refuse a pipe of unknown text into a shell by itself; either way nothing is pushed.
  assert.match(pipe!.text, /session-bridge git shim: `git push` is blocked[\s\S]*rc=126|session-bridge guard:/);
  assert.equal(git(repo, "ls-remote", remote).out, "", "nothing reached the remote");
  assert.match(status!.text, /^\?\? push\.sh\nrc=0\n.*\/bridge\/shim\/[0-9a-f]{16}\/git$/);
  // The env file Claude Code named for the session holds our lines.
  assert.equal(shimmedSessions(box).length, 1);
});

test("shim: it follows the session through --resume, --continue and /clear; an unbridged resume drops it", async (t) => {
  const box = makeSandbox(t, { baseUrl: server.url });
  installBridge(box);
  const PROBE = "command -v git";
  const isShim = /\/bridge\/shim\/[0-9a-f]{16}\/git/;
  const run = async (route: string, env: Record<string, string>, args: string[] = []) => {
    server.script(route, probe(PROBE));
    const r = await runHeadless({
      cwd: box.cwd,
      env,
      prompt: "which git?",
      args: ["--output-format", "json", "--allowedTools", "Bash", ...args],
    });
    assertOk(r);
    return { session: r.json?.session_id as string, git: lastResult(route) };
  };
  const first = await run("start", bridged(box, "start"));
  assert.match(first.git, isShim, "startup");
  assert.match((await run("resume", bridged(box, "resume"), ["--resume", first.session])).git, isShim, "--resume");
  const plain = { ...box.env, ANTHROPIC_BASE_URL: server.baseUrl("plain") };
  assert.doesNotMatch((await run("plain", plain, ["--resume", first.session])).git, isShim, "unbridged --resume");
  // -p --continue hands the hook a fresh folder but runs Bash with the continued session's, which
  // the unbridged run just emptied: the hook writes that one too.
  assert.match((await run("continue", bridged(box, "continue"), ["--continue"])).git, isShim, "--continue");

  server.script("tui", probe(PROBE));
  const tui = await startTui({ t, cwd: box.cwd, env: bridged(box, "tui"), args: ["--allowedTools", "Bash"] });
  const ask = async () => {
    const mark = server.mark();
    await tui.submit("which git?");
    await server.waitForRequest((r) => r.route === "tui" && r.kind === "turn" && answered(r), 30_000, { after: mark });
    return lastResult("tui");
  };
  assert.match(await ask(), isShim, "TUI startup");
  const before = shimmedSessions(box).length;
  await tui.submit("/clear");
  // /clear starts a new session id: SessionStart (source clear) writes that session's own file.
  await waitFor("the env file of the session /clear started", () => shimmedSessions(box).length > before, 20_000);
  assert.match(await ask(), isShim, "after /clear");
});
