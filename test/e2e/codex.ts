// Runs the real Codex CLI (the pinned devDependency @openai/codex) against the scripted
// Responses API in openai-server.ts only. What 0.169.0 does under these settings:
// docs/other-agents.md and test/e2e/NOTES.md ("Codex CLI and Gemini CLI").
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { assertLoopback, baseEnv, type CliRunResult, jsonLines, makeDirs, type Netns, runCli, type SandboxDirs } from "./cli-run.ts";
import { CODEX_BIN } from "./constants.ts";
import { type TomlTable, toToml } from "./toml.ts";

export { CODEX_BIN } from "./constants.ts";
export { onCleanup } from "./procs.ts";

/** The environment variable the mock provider reads its key from (`env_key`). */
export const CODEX_KEY_VAR = "E2E_MODEL_API_KEY";
export const CODEX_TEST_KEY = "sk-codex-e2e-0123456789";
/**
 * A model slug Codex 0.169.0 has no metadata for: it warns once ("Model metadata for `mock-model`
 * not found", an `error` item in --json) and offers MCP tools directly as namespaces. A known slug
 * (gpt-5.5) defers MCP tools behind `tool_search` instead (a direct call still works).
 */
export const CODEX_MODEL = "mock-model";

export interface CodexSandbox extends SandboxDirs {
  /** CODEX_HOME: config.toml, hooks.json, sessions/, sqlite state. */
  codexHome: string;
  env: Record<string, string>;
  /** The config.toml content as an object; writeConfig() renders it again after a change. */
  config: TomlTable;
  /** Rewrites CODEX_HOME/config.toml from `config` (overwrites whatever Codex wrote there itself). */
  writeConfig(): void;
}

export interface CodexSandboxOptions {
  /** `server.url` or `server.baseUrl(route)`; `/v1` is appended. */
  baseUrl: string;
  model?: string;
  /** Added to the environment last; undefined removes a variable. */
  extra?: Record<string, string | undefined>;
}

/** Fresh HOME, CODEX_HOME, TMPDIR and work folder, with a config.toml that keeps Codex local. */
export function makeCodexSandbox(t: TestContext, o: CodexSandboxOptions): CodexSandbox {
  assertLoopback(o.baseUrl);
  const dirs = makeDirs(t, "sb-codex-");
  const codexHome = join(dirs.root, "codex");
  const env: Record<string, string | undefined> = { ...baseEnv(dirs), CODEX_HOME: codexHome, [CODEX_KEY_VAR]: CODEX_TEST_KEY, ...o.extra };
  const config: TomlTable = {
    model_provider: "mock",
    model: o.model ?? CODEX_MODEL,
    // No update check, no analytics: with plugins off too, a run talks to the model server only.
    check_for_update_on_startup: false,
    // Tests run unattended: no approval prompts, commands run without Codex's sandbox.
    approval_policy: "never",
    sandbox_mode: "danger-full-access",
    // The hosted web_search tool would only be offered to the (scripted) model; leave it out.
    web_search: "disabled",
    analytics: { enabled: false },
    // Same as `--disable plugins` on every command: else Codex syncs a plugin catalogue.
    features: { plugins: false },
    model_providers: {
      mock: {
        name: "scripted e2e model",
        base_url: `${o.baseUrl}/v1`,
        env_key: CODEX_KEY_VAR,
        wire_api: "responses",
        // A failing local server is a bug to see at once, not a network blip to retry for minutes.
        request_max_retries: 0,
        stream_max_retries: 0,
      },
    },
    projects: { [dirs.cwd]: { trust_level: "trusted" } },
  };
  const box: CodexSandbox = {
    ...dirs,
    codexHome,
    env: definedOnly(env),
    config,
    writeConfig: () => writeFileSync(join(codexHome, "config.toml"), toToml(box.config)),
  };
  mkdirSync(codexHome, { recursive: true, mode: 0o700 });
  box.writeConfig();
  return box;
}

function definedOnly(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

export interface CodexMcpServer {
  command: string;
  args?: string[];
  /** Set for the server (`env = {…}`). */
  env?: Record<string, string>;
  /**
   * Variables passed through from Codex's own environment (`env_vars = […]`). 0.169.0 starts a
   * stdio server with only a short default list (HOME, PATH, TMPDIR, LANG…) plus these and `env`.
   */
  envVars?: string[];
  /** `required = true`: `codex exec` waits for the server before the first model request. */
  required?: boolean;
}

/** `[mcp_servers.NAME]` in config.toml: what `codex mcp add NAME --env K=V -- CMD ARGS` writes. */
export function addCodexMcpServer(box: CodexSandbox, name: string, server: CodexMcpServer): void {
  const servers = (box.config.mcp_servers ??= {}) as TomlTable;
  servers[name] = {
    command: server.command,
    args: server.args ?? [],
    ...(server.envVars ? { env_vars: server.envVars } : {}),
    ...(server.required === undefined ? {} : { required: server.required }),
    ...(server.env ? { env: server.env } : {}),
  };
  box.writeConfig();
}

export interface CodexHook {
  command: string;
  /** Seconds. */
  timeout?: number;
}

/** Appends a command hook to CODEX_HOME/hooks.json (Claude Code's nesting: event → groups → handlers). */
export function addCodexHook(box: CodexSandbox, event: string, hook: CodexHook, matcher?: string): void {
  const file = join(box.codexHome, "hooks.json");
  let doc: { hooks: Record<string, unknown[]> };
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    doc = { hooks: {} };
  }
  const group: Record<string, unknown> = { hooks: [{ type: "command", ...hook }] };
  if (matcher !== undefined) group.matcher = matcher;
  (doc.hooks[event] ??= []).push(group);
  writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
}

export interface CodexRunResult extends CliRunResult {
  /** `--json` events (thread.started, turn.*, item.*); [] without --json. */
  events: any[];
  /** From `thread.started`: what `codex exec resume` takes. */
  threadId: string | undefined;
  /** Text of each `agent_message` item. */
  messages: string[];
}

export interface CodexRunOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  netns?: Netns;
}

/** `codex ARGS` in the sandbox (any subcommand). */
export async function runCodex(box: CodexSandbox, args: string[], o: CodexRunOptions = {}): Promise<CodexRunResult> {
  const r = await runCli({
    bin: CODEX_BIN,
    args,
    cwd: o.cwd ?? box.cwd,
    env: o.env ?? box.env,
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    ...(o.netns ? { netns: o.netns } : {}),
  });
  const events = args.includes("--json") ? jsonLines(r.stdout) : [];
  return {
    ...r,
    events,
    threadId: events.find((e) => e.type === "thread.started")?.thread_id,
    messages: events.filter((e) => e.type === "item.completed" && e.item?.type === "agent_message").map((e) => e.item.text as string),
  };
}

export interface CodexExecOptions extends CodexRunOptions {
  prompt: string;
  /** More arguments before the prompt. */
  args?: string[];
  /** `--dangerously-bypass-hook-trust` (default true): hooks nobody approved run anyway. */
  bypassHookTrust?: boolean;
}

function execFlags(o: CodexExecOptions): string[] {
  return [
    "--json",
    "--skip-git-repo-check",
    ...(o.bypassHookTrust === false ? [] : ["--dangerously-bypass-hook-trust"]),
    ...(o.args ?? []),
  ];
}

/** `codex exec --json --skip-git-repo-check [--dangerously-bypass-hook-trust] ARGS PROMPT </dev/null`. */
export function codexExec(box: CodexSandbox, o: CodexExecOptions): Promise<CodexRunResult> {
  return runCodex(box, ["exec", ...execFlags(o), o.prompt], o);
}

/** `codex exec resume --json … THREAD_ID PROMPT`: the thread's history goes into the next request. */
export function codexResume(box: CodexSandbox, threadId: string, o: CodexExecOptions): Promise<CodexRunResult> {
  return runCodex(box, ["exec", "resume", ...execFlags(o), threadId, o.prompt], o);
}
