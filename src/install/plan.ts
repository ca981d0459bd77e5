// What `install` and `uninstall` change in Claude Code's files, as pure functions from the
// current JSON to the next JSON plus an exact list of changes (printed by --dry-run).
// Our entries are recognised by their command — `<our binary> hook <name>` or `<node> <…/
// session-bridge.cjs> hook <name>` (.mjs in older installs) — never by a substring that could
// match someone else's hook.
import { BridgeError } from "../lib/errors.ts";
import { isRecord } from "../lib/fs.ts";
import { parseShell } from "../shell/parse.ts";
import { mcpEntry } from "../agents/claude/config.ts";
import { MCP_SERVER_NAME, NON_ADMIN_TOOL_IDS } from "../agents/tool-names.ts";
import { isAgentName } from "../agents/agent.ts";
import type { AgentName } from "../agents/agent.ts";

export type HookName = "recv" | "guard" | "send" | "wait";
const HOOK_NAMES: readonly string[] = ["recv", "guard", "send", "wait"];

export interface HookSpec {
  /** Claude Code's and Codex's events; Gemini's BeforeAgent, BeforeTool, AfterAgent (install/vendor-hooks.ts). */
  event: string;
  matcher?: string;
  name: HookName;
  /** Written as `--agent NAME` (Codex, Gemini): the hook then answers in that CLI's shape. */
  agent?: AgentName;
  timeout: number;
  asyncRewake?: boolean;
}

export interface InstallOptions {
  blockGit: boolean;
  wake?: "rewake";
  autosend: boolean;
}

/** A day: a rewake waiter killed at its timeout leaves nobody waiting (docs/claude-code.md "asyncRewake Stop hooks"). */
export const WAIT_TIMEOUT_SECONDS = 86_400;

export function desiredHooks(options: InstallOptions): HookSpec[] {
  const specs: HookSpec[] = [
    { event: "UserPromptSubmit", name: "recv", timeout: 15 },
    { event: "SessionStart", name: "recv", timeout: 15 },
  ];
  if (options.blockGit) specs.push({ event: "PreToolUse", matcher: "Bash", name: "guard", timeout: 15 });
  if (options.autosend) specs.push({ event: "Stop", name: "send", timeout: 15 });
  if (options.wake === "rewake") specs.push({ event: "Stop", name: "wait", timeout: WAIT_TIMEOUT_SECONDS, asyncRewake: true });
  return specs;
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuote(word: string): string {
  return SAFE_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command of a hook entry. Claude Code runs it as `sh -c "<command>"` (docs/claude-code.md
 * "Process"), and sh forks it and waits; with `exec` the shell becomes the hook: one process fewer
 * on every prompt and Bash call of every session, bridged or not (BENCHMARKS.md "Hooks as Claude
 * Code runs them"). Codex and Gemini hooks stay as they were: Codex trusts a hook by a hash of it,
 * so a changed command runs nothing until a person approves it again (docs/other-agents.md "Hook
 * trust"). Nor on Windows, where the shell running it may not be sh.
 */
export function hookCommand(self: readonly string[], name: HookName, agent?: AgentName, platform = process.platform): string {
  const words = [...self, "hook", name, ...(agent ? ["--agent", agent] : [])].map(shellQuote).join(" ");
  return agent === undefined && platform !== "win32" ? `exec ${words}` : words;
}

const BRIDGE_SCRIPT = /^session-bridge\.(mjs|cjs|js)$/;

/**
 * The program name of a command word: its last path part, on Windows (either slash) too, where an
 * `.exe` suffix is dropped and case does not matter (`C:\\nodejs\\Node.EXE` is `node`).
 */
export function programName(word: string): string {
  const last = word.slice(Math.max(word.lastIndexOf("/"), word.lastIndexOf("\\")) + 1);
  return /\.exe$/i.test(last) ? last.slice(0, -4).toLowerCase() : last;
}

/** True for argv that runs session-bridge: the executable itself, or node + the script. */
export function isBridgeInvocation(words: readonly string[]): { rest: readonly string[] } | undefined {
  const [first, second] = words;
  if (first !== undefined && programName(first) === "session-bridge") return { rest: words.slice(1) };
  if (
    first !== undefined &&
    second !== undefined &&
    /^node(js)?(\d+(\.\d+)*)?$/.test(programName(first)) &&
    BRIDGE_SCRIPT.test(programName(second))
  ) {
    return { rest: words.slice(2) };
  }
  return undefined;
}

/**
 * The words of a hook command as hookCommand writes it: one plain command (no variables, no
 * assignments), its leading `exec` dropped (earlier installs wrote none). Undefined for
 * anything else.
 */
export function hookCommandWords(command: string): string[] | undefined {
  let words: string[];
  try {
    const commands = parseShell(command);
    if (commands.length !== 1 || commands[0]!.assigns.length > 0) return undefined;
    if (commands[0]!.words.some((w) => w.dynamic)) return undefined;
    words = commands[0]!.words.map((w) => w.value);
  } catch {
    // Not even valid shell: certainly not a command we wrote.
    return undefined;
  }
  return words[0] === "exec" ? words.slice(1) : words;
}

/** Which of our hooks a command string is, or undefined when it is someone else's. */
export function ourHookName(command: unknown): HookName | undefined {
  const words = typeof command === "string" ? hookCommandWords(command) : undefined;
  if (words === undefined) return undefined;
  const call = isBridgeInvocation(words);
  const rest = call?.rest ?? [];
  // `hook NAME`, or `hook NAME --agent AGENT` as written for Codex and Gemini.
  const agentOk = rest.length === 2 || (rest.length === 4 && rest[2] === "--agent" && isAgentName(rest[3]));
  if (!agentOk || rest[0] !== "hook" || !HOOK_NAMES.includes(rest[1]!)) return undefined;
  return rest[1] as HookName;
}

export function isOurMcpEntry(entry: unknown): boolean {
  if (!isRecord(entry) || typeof entry.command !== "string" || !Array.isArray(entry.args)) return false;
  const call = isBridgeInvocation([entry.command, ...entry.args.map(String)]);
  return call !== undefined && call.rest.length === 1 && call.rest[0] === "mcp";
}

export interface Plan {
  next: Record<string, unknown>;
  changes: string[];
}

interface Found {
  event: string;
  group: Record<string, unknown>;
  hook: Record<string, unknown>;
  name: HookName;
}

function malformed(key: string, what: string): BridgeError {
  return new BridgeError("E_CONFIG", `"${key}" in settings.json is not ${what}; fix it by hand — nothing was changed`);
}

function findOurHooks(hooks: Record<string, unknown>): Found[] {
  const found: Found[] = [];
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) continue;
    for (const group of groups) {
      if (!isRecord(group) || !Array.isArray(group.hooks)) continue;
      for (const hook of group.hooks) {
        if (!isRecord(hook)) continue;
        const name = ourHookName(hook.command);
        if (name) found.push({ event, group, hook, name });
      }
    }
  }
  return found;
}

function hookObject(self: readonly string[], spec: HookSpec): Record<string, unknown> {
  return {
    type: "command",
    command: hookCommand(self, spec.name, spec.agent),
    timeout: spec.timeout,
    ...(spec.asyncRewake && { asyncRewake: true }),
  };
}

function label(event: string, group: Record<string, unknown>): string {
  return typeof group.matcher === "string" ? `hooks.${event}[matcher ${group.matcher}]` : `hooks.${event}`;
}

/**
 * settings.json after install: exactly our hooks (updated in place), and our tools allowed
 * (`allowTools`: Claude Code's permissions.allow; Codex's hooks.json and Gemini have none).
 */
export function planSettings(
  current: Record<string, unknown>,
  self: readonly string[],
  specs: readonly HookSpec[],
  allowTools = true,
): Plan {
  const next = structuredClone(current);
  const changes: string[] = [];
  if (next.hooks !== undefined && !isRecord(next.hooks)) throw malformed("hooks", "an object");
  const hooks = (next.hooks ??= {}) as Record<string, unknown>;
  const found = findOurHooks(hooks);
  const kept = new Set<Found>();
  for (const spec of specs) {
    const want = hookObject(self, spec);
    const mine = found.filter((f) => f.event === spec.event && f.name === spec.name);
    const first = mine[0];
    if (first) {
      kept.add(first);
      if (JSON.stringify(pick(first.hook, want)) !== JSON.stringify(want)) {
        changes.push(`~ ${label(spec.event, first.group)}: ${JSON.stringify(pick(first.hook, want))} → ${JSON.stringify(want)}`);
        delete first.hook.asyncRewake;
        Object.assign(first.hook, want);
      }
      continue;
    }
    const group = { ...(spec.matcher !== undefined && { matcher: spec.matcher }), hooks: [want] };
    if (hooks[spec.event] !== undefined && !Array.isArray(hooks[spec.event])) throw malformed(`hooks.${spec.event}`, "a list");
    ((hooks[spec.event] ??= []) as unknown[]).push(group);
    changes.push(`+ ${label(spec.event, group)}: ${JSON.stringify(want)}`);
  }
  const emptied = found.filter((f) => !kept.has(f)).map((f) => removeHook(hooks, f, changes));
  pruneEmpty(next, hooks, emptied);
  if (allowTools) addAllowed(next, changes);
  return { next, changes };
}

function pick(hook: Record<string, unknown>, like: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ["type", "command", "timeout", "asyncRewake"])
    if (hook[key] !== undefined || like[key] !== undefined) out[key] = hook[key];
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/** Removes one hook of ours (and its group if that leaves it empty); returns the event touched. */
function removeHook(hooks: Record<string, unknown>, f: Found, changes: string[]): string {
  const list = f.group.hooks as unknown[];
  list.splice(list.indexOf(f.hook), 1);
  changes.push(`- ${label(f.event, f.group)}: ${JSON.stringify(f.hook)}`);
  if (list.length === 0) {
    const groups = hooks[f.event] as unknown[];
    groups.splice(groups.indexOf(f.group), 1);
  }
  return f.event;
}

/** Drops only the containers our removals emptied: an event left with no groups, then an empty hooks object. */
function pruneEmpty(settings: Record<string, unknown>, hooks: Record<string, unknown>, touched: readonly string[]): void {
  if (touched.length === 0) return;
  for (const event of touched) if (Array.isArray(hooks[event]) && (hooks[event] as unknown[]).length === 0) delete hooks[event];
  if (Object.keys(hooks).length === 0) delete settings.hooks;
}

function addAllowed(settings: Record<string, unknown>, changes: string[]): void {
  if (settings.permissions !== undefined && !isRecord(settings.permissions)) throw malformed("permissions", "an object");
  const permissions = (settings.permissions ??= {}) as Record<string, unknown>;
  if (permissions.allow !== undefined && !Array.isArray(permissions.allow)) throw malformed("permissions.allow", "a list");
  const allow = (permissions.allow ??= []) as unknown[];
  for (const id of NON_ADMIN_TOOL_IDS) {
    if (!allow.includes(id)) {
      allow.push(id);
      changes.push(`+ permissions.allow: ${JSON.stringify(id)}`);
    }
  }
}

/** settings.json after uninstall: every hook of ours and every tool permission we add, removed. */
export function planSettingsRemoval(current: Record<string, unknown>): Plan {
  const next = structuredClone(current);
  const changes: string[] = [];
  if (isRecord(next.hooks)) {
    const hooks = next.hooks;
    pruneEmpty(
      next,
      hooks,
      findOurHooks(hooks).map((f) => removeHook(hooks, f, changes)),
    );
  }
  if (isRecord(next.permissions) && Array.isArray(next.permissions.allow)) {
    const allow = next.permissions.allow as unknown[];
    for (const id of NON_ADMIN_TOOL_IDS) {
      const at = allow.indexOf(id);
      if (at !== -1) {
        allow.splice(at, 1);
        changes.push(`- permissions.allow: ${JSON.stringify(id)}`);
      }
    }
    if (allow.length === 0) delete next.permissions.allow;
    if (Object.keys(next.permissions).length === 0) delete next.permissions;
  }
  return { next, changes };
}

/** .claude.json after install: only mcpServers["session-bridge"] touched. */
export function planMcp(current: Record<string, unknown>, self: readonly string[]): Plan {
  const next = structuredClone(current);
  const want = mcpEntry(self);
  if (next.mcpServers !== undefined && !isRecord(next.mcpServers))
    throw new BridgeError("E_CONFIG", `"mcpServers" in .claude.json is not an object; fix it by hand — nothing was changed`);
  const servers = (next.mcpServers ??= {}) as Record<string, unknown>;
  const have = servers[MCP_SERVER_NAME];
  if (JSON.stringify(have) === JSON.stringify(want)) return { next: current, changes: [] };
  servers[MCP_SERVER_NAME] = want;
  const change =
    have === undefined
      ? `+ mcpServers.${MCP_SERVER_NAME}: ${JSON.stringify(want)}`
      : `~ mcpServers.${MCP_SERVER_NAME}: ${JSON.stringify(have)} → ${JSON.stringify(want)}`;
  return { next, changes: [change] };
}

/** .claude.json after uninstall: our server entry gone (an entry of that name that is not ours stays). */
export function planMcpRemoval(current: Record<string, unknown>): Plan {
  if (!isRecord(current.mcpServers) || !isOurMcpEntry(current.mcpServers[MCP_SERVER_NAME])) return { next: current, changes: [] };
  const next = structuredClone(current);
  const servers = next.mcpServers as Record<string, unknown>;
  const have = servers[MCP_SERVER_NAME];
  delete servers[MCP_SERVER_NAME];
  return { next, changes: [`- mcpServers.${MCP_SERVER_NAME}: ${JSON.stringify(have)}`] };
}
