// Running the built hooks the way Claude Code does: a clean environment (only what Claude Code
// gives a hook, plus the bridge variables), the event JSON on stdin, stdout/stderr/exit code back.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { sendMessage } from "../../src/bus.ts";
import type { SendResult } from "../../src/bus.ts";
import { BIN } from "./bin.ts";

export { waitFor } from "./poll.ts";

export const PROJECT = "shop";

/** A fresh bridge root, removed when the test ends. */
export function tempRoot(t: TestContext): string {
  const root = mkdtempSync(join(tmpdir(), "sb-hooks-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/** What Claude Code puts in a hook's environment (docs/claude-code.md "Hooks"), for role `role`. */
export function hookEnv(root: string, role: string | undefined, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    BRIDGE_ROOT: root,
    CLAUDECODE: "1",
    CLAUDE_PID: String(process.pid),
    CLAUDE_CODE_SESSION_ID: "0d9a7c1e-5b2f-4f7e-9a61-2c3d4e5f6a7b",
    CLAUDE_CODE_ENTRYPOINT: "cli",
    CLAUDE_CODE_SESSION_ATTENDED: "1",
    CLAUDE_PROJECT_DIR: root,
  };
  if (role !== undefined) Object.assign(env, { BRIDGE_PROJECT: PROJECT, BRIDGE_ROLE: role });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

const COMMON = (event: string) => ({
  session_id: "0d9a7c1e-5b2f-4f7e-9a61-2c3d4e5f6a7b",
  transcript_path: "/tmp/transcript.jsonl",
  cwd: "/work/app",
  hook_event_name: event,
  permission_mode: "default",
});

export const events = {
  prompt: (prompt: string) => ({ ...COMMON("UserPromptSubmit"), prompt }),
  sessionStart: (source = "startup") => ({ ...COMMON("SessionStart"), source }),
  bash: (command: string) => ({
    ...COMMON("PreToolUse"),
    tool_name: "Bash",
    tool_input: { command, description: "run it" },
    tool_use_id: "toolu_01ABC",
  }),
  stop: (last: string, active = false) => ({ ...COMMON("Stop"), stop_hook_active: active, last_assistant_message: last }),
};

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runHookSync(name: string, env: NodeJS.ProcessEnv, input: unknown): Ran {
  const r = spawnSync(process.execPath, [BIN, "hook", name], {
    env,
    input: typeof input === "string" ? input : JSON.stringify(input) + "\n",
    encoding: "utf8",
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Running {
  child: ChildProcess;
  /** Output so far. */
  out: { stdout: string; stderr: string };
  exited: Promise<Ran>;
}

/** Starts a long-running hook (wait); killed when the test ends if still running. */
export function startHook(t: TestContext, name: string, env: NodeJS.ProcessEnv, input: unknown = {}): Running {
  const child = spawn(process.execPath, [BIN, "hook", name], { env, stdio: ["pipe", "pipe", "pipe"] });
  const out = { stdout: "", stderr: "" };
  child.stdout!.on("data", (d) => (out.stdout += d));
  child.stderr!.on("data", (d) => (out.stderr += d));
  child.stdin!.on("error", () => {
    // The waiter does not read stdin and may exit before the write lands, as Claude Code tolerates.
  });
  child.stdin!.end(JSON.stringify(input) + "\n");
  const exited = new Promise<Ran>((resolve) => child.on("close", (code) => resolve({ code, ...out })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, out, exited };
}

/** Resolves with the exit, or fails after `ms` naming what was expected. */
export async function exitWithin(running: Running, what: string, ms = 15_000): Promise<Ran> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}; stderr so far: ${running.out.stderr}`)), ms);
  });
  try {
    return await Promise.race([running.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends as `from` (joining both roles), with an explicit chain stamp. */
export function send(
  root: string,
  from: string,
  to: string,
  body: string,
  stamp = { chain: "ctest0001", hop: 0 },
  replyTo?: string,
): SendResult {
  return sendMessage({
    identity: { root, project: PROJECT, role: from },
    to,
    body,
    queue: true,
    stamp,
    limits: { maxBodyBytes: 1024 * 1024, fsync: false },
    ...(replyTo !== undefined && { replyTo }),
  });
}
