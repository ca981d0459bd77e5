// Runs the real Claude Code (the pinned devDependency) against a local model server only.
// See test/e2e/NOTES.md for what 2.1.328 does under these settings.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { CLAUDE_BIN, TEST_API_KEY } from "./constants.ts";
import { killTree, killTreeSync, onCleanup, onProcessExit } from "./procs.ts";

export { onCleanup } from "./procs.ts";

export { CLAUDE_BIN, FIXTURES, TEST_API_KEY } from "./constants.ts";
export { startTui, type Tui, type TuiOptions } from "./tui.ts";

export interface ClaudeEnvOptions {
  /** `server.url` or `server.baseUrl(route)`; must be loopback. */
  baseUrl: string;
  configDir: string;
  home: string;
  apiKey?: string;
  /** Added last; an undefined value removes the variable. */
  extra?: Record<string, string | undefined>;
}

/**
 * A clean environment (not process.env: a test run inside Claude Code or tmux must not leak
 * CLAUDECODE, CLAUDE_*, TMUX or a real API key into the child) that keeps Claude Code local.
 */
export function claudeEnv(o: ClaudeEnvOptions): Record<string, string> {
  const url = new URL(o.baseUrl);
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") {
    throw new Error(`baseUrl ${o.baseUrl} is not loopback; e2e tests must only talk to the local model server`);
  }
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: o.home,
    LANG: "C.UTF-8",
    TMPDIR: process.env.TMPDIR,
    ANTHROPIC_BASE_URL: o.baseUrl,
    ANTHROPIC_API_KEY: o.apiKey ?? TEST_API_KEY,
    CLAUDE_CONFIG_DIR: o.configDir,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: "1",
    // Tests run as root; bypass permission modes refuse root without it.
    IS_SANDBOX: "1",
    ...o.extra,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

// ---- <config>/.claude.json and settings.json ----

export interface McpServerEntry {
  type: "stdio";
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

function readJsonObject(file: string): Record<string, any> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
  const value = JSON.parse(text);
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`${file} does not hold a JSON object`);
  return value;
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 });
  renameSync(tmp, file);
}

/** Read-modify-write of a JSON object file, atomically (temp + rename). */
export function updateJsonFile(file: string, edit: (value: Record<string, any>) => void): void {
  const value = readJsonObject(file);
  edit(value);
  writeJsonAtomic(file, value);
}

/**
 * Merges the first-run answers into `<config>/.claude.json`: onboarding done, the API key
 * approved (Claude Code stores its last 20 characters), and folder trust for `trust`.
 * Everything else in the file (mcpServers written by an installer, Claude Code's own state) stays.
 */
export function writeClaudeJson(configDir: string, o: { apiKey?: string; trust?: string[] } = {}): void {
  const suffix = (o.apiKey ?? TEST_API_KEY).slice(-20);
  updateJsonFile(join(configDir, ".claude.json"), (cfg) => {
    cfg.hasCompletedOnboarding = true;
    const responses = (cfg.customApiKeyResponses ??= {});
    const approved: string[] = (responses.approved ??= []);
    if (!approved.includes(suffix)) approved.push(suffix);
    responses.rejected = ((responses.rejected ?? []) as string[]).filter((k) => k !== suffix);
    const projects = (cfg.projects ??= {});
    for (const dir of o.trust ?? []) projects[dir] = { ...projects[dir], hasTrustDialogAccepted: true };
  });
}

/** A user-scope MCP server: top-level `mcpServers` of `<config>/.claude.json` (not settings.json). */
export function addUserMcpServer(configDir: string, name: string, entry: McpServerEntry): void {
  updateJsonFile(join(configDir, ".claude.json"), (cfg) => {
    cfg.mcpServers = { ...cfg.mcpServers, [name]: entry };
  });
}

export interface HookHandler {
  type?: "command";
  command: string;
  /** Seconds. */
  timeout?: number;
  async?: boolean;
  asyncRewake?: boolean;
}

/** Appends a command hook to `<config>/settings.json` (user settings, merged). */
export function addHook(configDir: string, event: string, handler: HookHandler, matcher?: string): void {
  updateJsonFile(join(configDir, "settings.json"), (s) => {
    const hooks = (s.hooks ??= {});
    const list: unknown[] = (hooks[event] ??= []);
    const group: Record<string, unknown> = { hooks: [{ type: "command", ...handler }] };
    if (matcher !== undefined) group.matcher = matcher;
    list.push(group);
  });
}

/** Adds rules to `permissions.allow` in `<config>/settings.json` (e.g. "mcp__fx__echo", "Bash(ls:*)"). */
export function allowTools(configDir: string, rules: string[]): void {
  updateJsonFile(join(configDir, "settings.json"), (s) => {
    const permissions = (s.permissions ??= {});
    const allow: string[] = (permissions.allow ??= []);
    for (const rule of rules) if (!allow.includes(rule)) allow.push(rule);
  });
}

export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_/.,:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

// ---- sandbox ----

export interface Sandbox {
  /** Temp folder holding everything below (and TMPDIR); removed after the test (kept with E2E_KEEP=1). */
  root: string;
  home: string;
  configDir: string;
  /** The trusted project folder to run claude in. */
  cwd: string;
  env: Record<string, string>;
}

export interface SandboxOptions {
  baseUrl: string;
  apiKey?: string;
  extra?: Record<string, string | undefined>;
}

/** Fresh HOME, CLAUDE_CONFIG_DIR (first run answered), TMPDIR and work folder; removed after the test. */
export function makeSandbox(t: TestContext, o: SandboxOptions): Sandbox {
  // realpath: Claude Code keys trust by the resolved cwd (/tmp is a symlink on macOS).
  const root = realpathSync(mkdtempSync(join(tmpdir(), "sb-e2e-")));
  const home = join(root, "home");
  const configDir = join(root, "config");
  const cwd = join(root, "work");
  // TMPDIR inside: claude keeps per-session notes (claude-<uid>/) and its messaging sockets (cc-socks/) there.
  const tmp = join(root, "tmp");
  for (const dir of [home, configDir, cwd, tmp]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeClaudeJson(configDir, { ...(o.apiKey === undefined ? {} : { apiKey: o.apiKey }), trust: [cwd] });
  const extra = { TMPDIR: tmp, ...o.extra };
  const env = claudeEnv({ baseUrl: o.baseUrl, configDir, home, ...(o.apiKey === undefined ? {} : { apiKey: o.apiKey }), extra });
  // Registered first, so it runs last: after every claude started in this test is gone.
  onCleanup(t, () => {
    if (process.env.E2E_KEEP) t.diagnostic(`kept sandbox ${root} (and ${bgSupervisorDir(configDir)} if a --bg session ran)`);
    else {
      // Retries cover a straggler still writing (ENOTEMPTY) during the first attempt.
      rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      // Outside the sandbox, and left behind by a stopped supervisor: one folder per test that ran `claude --bg`.
      rmSync(bgSupervisorDir(configDir), { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    }
  });
  return { root, home, configDir, cwd, env };
}

/**
 * The folder of the `claude --bg` supervisor's sockets for a config dir: /tmp/cc-daemon-<uid>/ and
 * the first 8 hex digits of the config dir's SHA-256, whatever TMPDIR says; a supervisor stopped by
 * SIGTERM removes only its control.sock from it (seen on 2.1.328, docs/claude-code.md).
 */
export function bgSupervisorDir(configDir: string): string {
  const uid = process.getuid?.() ?? 0;
  return join("/tmp", `cc-daemon-${uid}`, createHash("sha256").update(configDir).digest("hex").slice(0, 8));
}

// ---- claude -p and other subcommands ----

export interface RunOptions {
  cwd: string;
  env: Record<string, string>;
  /** Everything after `claude`. */
  args: string[];
  /** Written to stdin (then closed); default: stdin closed at once. */
  input?: string;
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** `--output-format json`: the result object; `stream-json`: the array of events. */
  json?: any;
  pid: number;
  /** Wall time from spawn to exit. */
  ms: number;
}

/** Runs `claude ARGS`; rejects on timeout (after killing its whole tree). */
export function runClaude(o: RunOptions): Promise<RunResult> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  const started = performance.now();
  // Own process group, so a timeout also ends its MCP servers and hooks.
  const child = spawn(CLAUDE_BIN, o.args, { cwd: o.cwd, env: o.env, stdio: ["pipe", "pipe", "pipe"], detached: true });
  const pid = child.pid ?? -1;
  const forget = onProcessExit(() => killTreeSync(pid, "SIGKILL"));
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  // EPIPE when claude exits before reading stdin: the exit code tells the real story.
  child.stdin.on("error", () => {});
  child.stdin.end(o.input ?? "");
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void killTree(pid, "SIGTERM", 2000);
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      forget();
      reject(new Error(`cannot run ${CLAUDE_BIN}: ${err.message}; run npm ci to install the pinned @anthropic-ai/claude-code`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      forget();
      const ms = performance.now() - started;
      if (timedOut) {
        reject(
          new Error(
            `claude ${o.args.join(" ")} timed out after ${timeoutMs} ms\n--- stdout\n${stdout.slice(-2000)}\n--- stderr\n${stderr.slice(-2000)}`,
          ),
        );
        return;
      }
      resolve({ code, signal, stdout, stderr, json: parseOutput(o.args, stdout), pid, ms });
    });
  });
}

export interface HeadlessOptions {
  cwd: string;
  env: Record<string, string>;
  /** Written to stdin: tool flags are variadic and would swallow a positional prompt. */
  prompt: string;
  /** Extra arguments after `-p`, e.g. ["--output-format", "json", "--allowedTools", "mcp__x__y"]. */
  args?: string[];
  timeoutMs?: number;
}

export type HeadlessResult = RunResult;

/** `claude -p ARGS` with the prompt on stdin. */
export function runHeadless(o: HeadlessOptions): Promise<HeadlessResult> {
  return runClaude({
    cwd: o.cwd,
    env: o.env,
    args: ["-p", ...(o.args ?? [])],
    input: o.prompt,
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
  });
}

function parseOutput(args: string[], stdout: string): any {
  const i = args.indexOf("--output-format");
  const format = i >= 0 ? args[i + 1] : undefined;
  try {
    if (format === "json") return JSON.parse(stdout);
    if (format === "stream-json")
      return stdout
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l));
  } catch {
    // Not JSON (claude failed early and printed text): the test sees stdout/stderr instead.
  }
  return undefined;
}
