// Starting a `claude --bg` session for a test, the one way bg-rewake and socket tests need it:
// a background session does not inherit the launching shell's environment (docs/claude-code.md
// "Background sessions"), so the bridge identity and the offline settings go through --settings env,
// and the supervisor it leaves behind is found by its environment and stopped when the test ends.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import type { TestContext } from "node:test";
import { onCleanup, runClaude, type Sandbox } from "./claude.ts";
import { requestText, type ModelServer } from "./model-server.ts";
import { killTree } from "./procs.ts";

/** Every process whose environment names the sandbox (the background supervisor, its sessions, our hooks). */
function sandboxProcesses(root: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${name}/environ`, "latin1").includes(root)) out.push(Number(name));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return out.filter((pid) => pid !== process.pid);
}

export interface BackgroundSession {
  /** The bridge root given to the session. */
  root: string;
  project: string;
  role: string;
  /** The model server route the session talks to. */
  route: string;
  /** The first prompt, already answered by the model when start returns. */
  prompt: string;
}

/**
 * Starts `claude --bg PROMPT` as `project/role` of the bridge at `root`, talking only to `server`
 * under `route`, and returns once the model has seen its first turn. Its processes are stopped
 * when the test ends, whatever happened.
 */
export async function startBackgroundSession(t: TestContext, box: Sandbox, server: ModelServer, session: BackgroundSession): Promise<void> {
  onCleanup(t, async () => {
    for (const pid of sandboxProcesses(box.root)) await killTree(pid, "SIGTERM", 2000);
  });
  // The offline settings go through --settings env too, so the session can only ever reach the local model server.
  const offline = Object.fromEntries(Object.entries(box.env).filter(([k]) => /^(ANTHROPIC_|DISABLE_|CLAUDE_CODE_DISABLE)/.test(k)));
  const baseUrl = server.baseUrl(session.route);
  const settings = JSON.stringify({
    env: { ...offline, ANTHROPIC_BASE_URL: baseUrl, BRIDGE_ROOT: session.root, BRIDGE_PROJECT: session.project, BRIDGE_ROLE: session.role },
  });
  const started = await runClaude({
    cwd: box.cwd,
    env: { ...box.env, ANTHROPIC_BASE_URL: baseUrl },
    args: ["--bg", "--settings", settings, session.prompt],
  });
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stdout + started.stderr, /backgrounded/);
  await server.waitForRequest((r) => r.kind === "turn" && requestText(r).includes(session.prompt), 30_000);
}
