// Runs the real Gemini CLI (the pinned devDependency @google/gemini-cli) against the scripted
// Gemini API in gemini-server.ts only. What 0.61.0 does under these settings:
// docs/other-agents.md and test/e2e/NOTES.md ("Codex CLI and Gemini CLI").
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { assertLoopback, baseEnv, type CliRunResult, jsonLines, makeDirs, type Netns, runCli, type SandboxDirs } from "./cli-run.ts";
import { GEMINI_BIN } from "./constants.ts";

export { GEMINI_BIN } from "./constants.ts";
export { onCleanup } from "./procs.ts";

/** Pinned with -m: the default `auto` adds a routing request before every turn. */
export const GEMINI_MODEL = "gemini-2.5-flash";
export const GEMINI_TEST_KEY = "gemini-e2e-key-0123456789";

export interface GeminiSandbox extends SandboxDirs {
  /** `<home>/.gemini` (HOME and GEMINI_CLI_HOME are both the sandbox home): settings.json, tmp/<project>/chats. */
  configDir: string;
  env: Record<string, string>;
}

export interface GeminiSandboxOptions {
  /** `server.url`; requests go to `/v1beta/models/…`. */
  baseUrl: string;
  /** Added to the environment last; undefined removes a variable. */
  extra?: Record<string, string | undefined>;
}

/** Fresh HOME (= GEMINI_CLI_HOME), TMPDIR and a trusted work folder, with settings that keep Gemini local. */
export function makeGeminiSandbox(t: TestContext, o: GeminiSandboxOptions): GeminiSandbox {
  assertLoopback(o.baseUrl);
  const dirs = makeDirs(t, "sb-gemini-");
  const configDir = join(dirs.home, ".gemini");
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  writeJson(join(configDir, "settings.json"), {
    // Without it GOOGLE_GEMINI_BASE_URL selects a "gateway" auth that fails (exit 41).
    security: { auth: { selectedType: "gemini-api-key" } },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
  });
  // Folder trust stays on (its default); the work folder is trusted as a person would answer.
  // An untrusted folder makes `gemini -p` exit 55, and hooks only run in a trusted one.
  writeJson(join(configDir, "trustedFolders.json"), { [dirs.cwd]: "TRUST_FOLDER" });
  const env: Record<string, string | undefined> = {
    ...baseEnv(dirs),
    GEMINI_CLI_HOME: dirs.home,
    GEMINI_API_KEY: GEMINI_TEST_KEY,
    GOOGLE_GEMINI_BASE_URL: o.baseUrl,
    // Else it re-executes itself with a bigger heap: one more node start per run.
    GEMINI_CLI_NO_RELAUNCH: "true",
    // The machine's /etc/gemini-cli settings must not reach the test: point both at nothing.
    GEMINI_CLI_SYSTEM_SETTINGS_PATH: join(dirs.root, "no-system-settings.json"),
    GEMINI_CLI_SYSTEM_DEFAULTS_PATH: join(dirs.root, "no-system-defaults.json"),
    ...o.extra,
  };
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  return { ...dirs, configDir, env: clean };
}

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value, null, 2) + "\n", { mode: 0o600 });
}

/** Read-modify-write of the user settings.json. */
export function updateGeminiSettings(box: GeminiSandbox, edit: (settings: Record<string, any>) => void): void {
  const file = join(box.configDir, "settings.json");
  const settings = JSON.parse(readFileSync(file, "utf8"));
  edit(settings);
  writeJson(file, settings);
}

export interface GeminiMcpServer {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  /** Its tools need no confirmation (else headless runs without yolo drop them). */
  trust?: boolean;
}

/** `mcpServers.NAME` in user settings: what `gemini mcp add --scope user [--trust] [-e K=V] NAME CMD ARGS` writes. */
export function addGeminiMcpServer(box: GeminiSandbox, name: string, server: GeminiMcpServer): void {
  updateGeminiSettings(box, (s) => {
    s.mcpServers = {
      ...s.mcpServers,
      [name]: { command: server.command, args: server.args ?? [], env: server.env ?? {}, ...(server.trust ? { trust: true } : {}) },
    };
  });
}

export interface GeminiHook {
  command: string;
  name?: string;
  /** Milliseconds (Gemini's unit, unlike Claude Code's and Codex's seconds). */
  timeout?: number;
}

/** Appends a command hook to the user settings' `hooks` (Claude Code's nesting: event → groups → handlers). */
export function addGeminiHook(box: GeminiSandbox, event: string, hook: GeminiHook, matcher?: string): void {
  updateGeminiSettings(box, (s) => {
    const group: Record<string, unknown> = { hooks: [{ type: "command", ...hook }] };
    if (matcher !== undefined) group.matcher = matcher;
    ((s.hooks ??= {})[event] ??= []).push(group);
  });
}

export interface GeminiRunResult extends CliRunResult {
  /** `-o json`: {session_id, response, stats}; `-o stream-json`: the array of events. */
  json?: any;
}

export interface GeminiRunOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  netns?: Netns;
}

/** `gemini ARGS` in the sandbox (any subcommand). */
export async function runGemini(box: GeminiSandbox, args: string[], o: GeminiRunOptions = {}): Promise<GeminiRunResult> {
  const r = await runCli({
    bin: GEMINI_BIN,
    args,
    cwd: o.cwd ?? box.cwd,
    env: o.env ?? box.env,
    timeoutMs: o.timeoutMs ?? 90_000,
    ...(o.netns ? { netns: o.netns } : {}),
  });
  const i = args.indexOf("-o");
  const format = i >= 0 ? args[i + 1] : undefined;
  let json: any;
  if (format === "stream-json") json = jsonLines(r.stdout);
  else if (format === "json") {
    try {
      json = JSON.parse(r.stdout);
    } catch {
      // Not JSON (gemini failed early and printed text): the test sees stdout/stderr instead.
    }
  }
  return { ...r, json };
}

export interface GeminiPromptOptions extends GeminiRunOptions {
  prompt: string;
  /** More arguments, e.g. ["--resume", id]. */
  args?: string[];
  /** `--approval-mode yolo` (default true): headless runs drop tools that would ask first. */
  yolo?: boolean;
}

/** `gemini -p PROMPT -m MODEL -o json [--approval-mode yolo] ARGS </dev/null`. */
export function geminiPrompt(box: GeminiSandbox, o: GeminiPromptOptions): Promise<GeminiRunResult> {
  const args = [
    "-p",
    o.prompt,
    "-m",
    GEMINI_MODEL,
    "-o",
    "json",
    ...(o.yolo === false ? [] : ["--approval-mode", "yolo"]),
    ...(o.args ?? []),
  ];
  return runGemini(box, args, o);
}
