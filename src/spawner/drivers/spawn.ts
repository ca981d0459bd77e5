// The spawn driver: a headless run of the role's own CLI in the role's folder (spawn-target.ts says
// which): `claude -p`, `codex exec … </dev/null` or `gemini -p`, with `resume` continuing the role's
// last closed session instead (`claude -p --resume ID`, `codex exec resume ID`, `gemini --resume ID`).
// A fresh run starts with no context of its own, so it gets the bridge's MCP tools (the non-admin
// ones, pre-approved where the CLI takes a list), the deny list, and the chain/hop of the message
// that woke it; never the admin switch or a tmux pane to type into.
import { wokenRunEnv } from "../../wake/chain.ts";
import { spawn } from "node:child_process";
import type { ChildProcess, SpawnOptions } from "node:child_process";
import { closeSync } from "node:fs";
import { describeError, isErrno } from "../../lib/errors.ts";
import { openForAppend, writeAll } from "../../lib/fs.ts";
import { mcpEntry } from "../../agents/claude/config.ts";
import { AGENT_COMMAND } from "../../agents/cli.ts";
import type { EffectiveRole, PermissionMode, Settings } from "../../settings/schema.ts";
import { MCP_SERVER_NAME, NON_ADMIN_TOOL_IDS, NON_ADMIN_TOOLS, PLUGIN_NON_ADMIN_TOOL_IDS } from "../../agents/tool-names.ts";
import type { SpawnTarget } from "./spawn-target.ts";
import { isoTime } from "../../lib/time.ts";

// Never passed on: the admin switch (a run must not flip its own rails), the tmux pane of whoever
// started the daemon, and the identity of an agent session the daemon may have been started from
// (Claude Code's, Gemini's hook variables, Codex's shell variables: docs/other-agents.md). A daemon
// started from Claude Code's Bash tool carries that session's messaging socket and token
// (docs/claude-code.md "Environment"): a run keeping them, and our hooks inside it, would record
// the other session's socket as the role's (the socket driver would nudge that session) and write
// the git shim into its CLAUDE_ENV_FILE. A Claude Code run sets its own; Codex and Gemini never do.
// Only variables naming one session are here: the user's own settings (CLAUDE_CONFIG_DIR, the
// CLAUDE_CODE_DISABLE_* switches, API keys) pass through.
const STRIPPED_ENV = [
  "BRIDGE_ADMIN",
  "TMUX",
  "TMUX_PANE",
  "CLAUDECODE",
  "CLAUDE_PID",
  "CLAUDE_CODE_SESSION_ID",
  "CLAUDE_CODE_ENTRYPOINT",
  "CLAUDE_CODE_SESSION_ATTENDED",
  "CLAUDE_CODE_MESSAGING_SOCKET",
  "CLAUDE_CODE_MESSAGING_TOKEN",
  "CLAUDE_CODE_CHILD_SESSION",
  "CLAUDE_JOB_DIR",
  "CLAUDE_ENV_FILE",
  "CLAUDE_PROJECT_DIR",
  "GEMINI_SESSION_ID",
  "GEMINI_PROJECT_DIR",
  "GEMINI_CWD",
  "CODEX_THREAD_ID",
  "CODEX_SESSION_ID",
  "CODEX_TOOL_CALL_ID",
];

export { spawnTargetCheck } from "../../wake/targets.ts";

export interface SpawnPlan {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * Claude Code's prompt, written to stdin (its tool flags are variadic and would swallow a
   * trailing prompt). Undefined: stdin is /dev/null (`codex exec` waits on an open stdin).
   */
  input: string | undefined;
  /** The session the run continues, if any (the run log's header and `spawner status` say it). */
  resumed?: string;
}

export interface PlanRequest {
  root: string;
  settings: Settings;
  role: EffectiveRole;
  /** Chain and hop of the message that woke the role; the run's own messages carry hop + 1. */
  chain: string;
  hop: number;
  self: string[];
  env: NodeJS.ProcessEnv;
  /** What to run (spawn-target.ts); Claude Code in the role's cwd when absent. */
  target?: SpawnTarget;
}

/** Gemini CLI 0.61.0's --approval-mode for a role's permissionMode (Claude Code's names). */
const GEMINI_APPROVAL: Record<PermissionMode, string> = {
  default: "default",
  acceptEdits: "auto_edit",
  auto: "auto_edit",
  dontAsk: "default",
  plan: "plan",
  bypassPermissions: "yolo",
};

/** How Gemini names our tools (`mcp_NAME_TOOL`, the `-` kept; docs/other-agents.md). */
const GEMINI_TOOL_IDS = NON_ADMIN_TOOLS.map((t) => `mcp_${MCP_SERVER_NAME}_${t}`);

export function planSpawn(request: PlanRequest): SpawnPlan {
  const { role, settings } = request;
  const agent = request.target?.agent ?? "claude";
  const resume = request.target?.resume?.sessionId;
  const env: NodeJS.ProcessEnv = { ...request.env };
  for (const name of STRIPPED_ENV) delete env[name];
  Object.assign(env, {
    BRIDGE_ROOT: request.root,
    BRIDGE_PROJECT: role.project,
    BRIDGE_ROLE: role.role,
    ...wokenRunEnv(request),
  });
  const cwd = role.cwd ?? "/";
  const prompt = settings.nudgePrompt;
  const model = role.model !== undefined ? ["--model", role.model] : [];
  const base = { env, cwd, ...(resume !== undefined && { resumed: `${agent} session ${resume}` }) };
  if (agent === "codex") {
    // The MCP server, hooks, sandbox and approvals come from the user's Codex config (install
    // --agent codex); `exec resume` takes no -C, so the folder is the run's cwd. No turn limit
    // exists: spawn.timeoutSeconds bounds the run.
    const args = ["exec", ...(resume !== undefined ? ["resume"] : []), "--skip-git-repo-check", ...model];
    return { ...base, command: AGENT_COMMAND.codex, args: [...args, ...(resume !== undefined ? [resume] : []), prompt], input: undefined };
  }
  if (agent === "gemini") {
    // Without the relaunch Gemini starts one Node process, not two. Headless Gemini drops tools
    // that would ask first, so our non-admin tools are allowed by name (seen on 0.61.0).
    env.GEMINI_CLI_NO_RELAUNCH = "true";
    const args = ["-p", prompt, ...model, "--approval-mode", GEMINI_APPROVAL[role.permissionMode]];
    args.push("--allowed-tools", GEMINI_TOOL_IDS.join(","));
    if (resume !== undefined) args.push("--resume", resume);
    return { ...base, command: AGENT_COMMAND.gemini, args, input: undefined };
  }
  const mcp = { mcpServers: { [MCP_SERVER_NAME]: mcpEntry(request.self) } };
  // Where the plugin is installed the run also loads the plugin's server: its tools by their plugin names.
  const args = ["-p", "--mcp-config", JSON.stringify(mcp), "--allowedTools", ...NON_ADMIN_TOOL_IDS, ...PLUGIN_NON_ADMIN_TOOL_IDS];
  if (settings.denyTools.length > 0) args.push("--disallowedTools", ...settings.denyTools);
  args.push("--permission-mode", role.permissionMode);
  args.push(...model);
  args.push("--max-turns", String(settings.spawn.maxTurns));
  if (resume !== undefined) args.push("--resume", resume);
  return { ...base, command: AGENT_COMMAND.claude, args, input: prompt + "\n" };
}

export interface RunOutcome {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  ms: number;
  /** Why it could not start (claude missing, cwd gone…). */
  error?: string;
}

export interface RunHandle {
  pid: number | undefined;
  log: string;
  done: Promise<RunOutcome>;
  /** SIGTERM to the run's process group, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs: number): Promise<RunOutcome>;
}

export interface RunOptions {
  log: string;
  timeoutMs: number;
  graceMs: number;
  spawnImpl?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
}

export function describeOutcome(outcome: RunOutcome): string {
  const secs = `${(outcome.ms / 1000).toFixed(1)} s`;
  if (outcome.error) return `did not start: ${outcome.error}`;
  if (outcome.timedOut) return `killed after the ${secs} timeout (spawn.timeoutSeconds)`;
  if (outcome.signal) return `ended by ${outcome.signal} after ${secs}`;
  return `exit ${outcome.code} after ${secs}`;
}

/** Starts the run with its output (and a header and footer) in the run's own log file. */
export function startRun(plan: SpawnPlan, options: RunOptions): RunHandle {
  const began = performance.now();
  const { fd } = openForAppend(options.log);
  writeAll(
    fd,
    `# session-bridge spawn run, ${isoTime()}\n# cwd: ${plan.cwd}\n# ${JSON.stringify([plan.command, ...plan.args])}\n# chain ${plan.env.BRIDGE_CHAIN} hop ${plan.env.BRIDGE_HOP}${plan.resumed ? `; resuming ${plan.resumed}` : ""}\n`,
  );
  let child: ChildProcess | undefined;
  let startError: string | undefined;
  try {
    // Its own process group, so a timeout or shutdown also reaches claude's children (MCP servers, tools).
    child = (options.spawnImpl ?? spawn)(plan.command, plan.args, {
      cwd: plan.cwd,
      env: plan.env,
      stdio: [plan.input === undefined ? "ignore" : "pipe", fd, fd],
      detached: true,
    });
  } catch (err) {
    startError = describeError(err);
  }
  closeSync(fd);
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch (err) {
      // The group is already gone (ESRCH): nothing left to stop.
      if (!isErrno(err, "ESRCH")) throw err;
    }
  };
  const terminate = (graceMs: number): void => {
    signalGroup("SIGTERM");
    killTimer ??= setTimeout(() => signalGroup("SIGKILL"), graceMs);
    killTimer.unref();
  };
  const done = new Promise<RunOutcome>((resolveDone) => {
    let settled = false;
    // A spawn failure may report both "error" and "exit": the first one decides.
    const finish = (outcome: Omit<RunOutcome, "ms" | "timedOut">): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      const full: RunOutcome = { ...outcome, timedOut, ms: performance.now() - began };
      try {
        const out = openForAppend(options.log).fd;
        writeAll(out, `\n# ${describeOutcome(full)}\n`);
        closeSync(out);
      } catch {
        // The footer is a courtesy; a vanished runs folder must not lose the outcome itself.
      }
      resolveDone(full);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      terminate(options.graceMs);
    }, options.timeoutMs);
    timer.unref();
    if (!child) return finish({ code: null, signal: null, error: startError ?? "spawn failed" });
    child.once("error", (err) => {
      const missing = isErrno(err, "ENOENT");
      finish({
        code: null,
        signal: null,
        error: missing ? `"${plan.command}" was not found on PATH (${plan.env.PATH ?? ""})` : describeError(err),
      });
    });
    child.once("exit", (code, signal) => finish({ code, signal }));
    // A run that exits without reading its prompt closes the pipe: EPIPE is expected then.
    child.stdin?.on("error", () => undefined);
    if (plan.input !== undefined) child.stdin?.end(plan.input);
  });
  return {
    pid: child?.pid,
    log: options.log,
    done,
    stop(graceMs) {
      terminate(graceMs);
      return done;
    },
  };
}
