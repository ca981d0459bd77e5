// What the spawn driver would run for a role, decided from files only (the daemon before a wake,
// `spawner status` any time): which CLI (the role's `agent` setting, else the agent of its newest
// session record, else Claude Code: src/settings/spawn-agent.ts, which `send`'s forecast asks too), whether that CLI is on PATH, whether the rails reach the run,
// and, with `resume`, which of the role's own sessions it would continue.
//
// The rails of a Codex or Gemini run are our hooks in that CLI's own files (`install --agent`):
// `hook recv` puts the mail into the run's model request and `hook guard` denies git
// commit/push/reset (neither CLI takes a per-run deny list the way `claude --disallowedTools`
// does). Without them a run would see no mail and could push, so the driver refuses to spawn and
// says why. Codex also skips, silently, a hook nobody approved (docs/other-agents.md "Hook trust").
import type { RolePaths } from "../../bus/layout.ts";
import type { SessionView } from "../../bus/sessions.ts";
import type { AgentName } from "../../agents/agent.ts";
import { AGENT_COMMAND, runLabel } from "../../agents/cli.ts";
import { recordAgent } from "../../agents/process.ts";
import { codexTrustKey, resolveCodexHome } from "../../agents/codex/config.ts";
import { resolveGeminiHome } from "../../agents/gemini/config.ts";
import { isRecord, parseJson, readFileIfExists } from "../../lib/fs.ts";
import { describeError } from "../../lib/errors.ts";
import { findOnPath } from "../../lib/proc.ts";
import type { EffectiveRole } from "../../settings/schema.ts";
import { sessionsNewestFirst, spawnAgent } from "../../settings/spawn-agent.ts";
import { spawnTargetCheck } from "../../wake/targets.ts";

export interface ResumeChoice {
  sessionId: string;
  /** The pid that last held it (gone now). */
  pid: number;
  lastSeen: string;
}

export interface SpawnTarget {
  agent: AgentName;
  /** Why this CLI: set by name, the role's newest session record, or the default. */
  agentWhy: string;
  /** The CLI as found on PATH; undefined only when the caller did not require it (`spawner status`). */
  path: string | undefined;
  cwd: string;
  /** The role's own closed session the run continues (resume on and one found). */
  resume?: ResumeChoice;
  /** Why a fresh run although resume is on. */
  resumeNote?: string;
}

export type SpawnTargetResult = { ok: true; spawn: SpawnTarget } | { ok: false; reason: string };

/**
 * `forStatus`: the daemon refuses a missing cwd or a CLI missing from its PATH; `spawner status`
 * runs in another shell, whose PATH may differ, so it leaves both to the daemon, whose refusal
 * (recorded in wake.json) status shows as "not woken".
 */
export function resolveSpawnTarget(
  paths: RolePaths,
  role: EffectiveRole,
  env: NodeJS.ProcessEnv,
  forStatus = false,
  recorded?: SessionView[],
): SpawnTargetResult {
  if (!forStatus || role.cwd === undefined) {
    const cwd = spawnTargetCheck(role);
    if (!cwd.ok) return cwd;
  }
  const sessions = sessionsNewestFirst(paths, recorded);
  const { agent, why: agentWhy } = spawnAgent(role, sessions);
  const name = `${role.project}/${role.role}`;
  const path = findOnPath(AGENT_COMMAND[agent], env);
  if (path === undefined && !forStatus)
    return {
      ok: false,
      reason: `${AGENT_COMMAND[agent]} (the CLI of ${name}: ${agentWhy}) is not on the daemon's PATH (${env.PATH ?? ""}); install it or start the daemon with it on PATH`,
    };
  if (agent !== "claude") {
    const missing = agent === "codex" ? codexRails(env) : geminiRails(env);
    if (missing) return { ok: false, reason: `not spawning ${AGENT_COMMAND[agent]} for ${name}: ${missing}` };
  }
  const target: SpawnTarget = { agent, agentWhy, path, cwd: role.cwd! };
  if (role.resume) Object.assign(target, chooseResume(sessions, agent, role.cwd!));
  return { ok: true, spawn: target };
}

/**
 * The role's newest session of this CLI, unless a live process holds it: resuming an open Claude
 * Code session starts a copy of it (docs/claude-code.md). Claude Code and Gemini keep sessions per
 * project folder, so a session recorded in another folder is not found from the role's cwd.
 */
function chooseResume(sessions: SessionView[], agent: AgentName, cwd: string): Pick<SpawnTarget, "resume" | "resumeNote"> {
  const mine = sessions.filter((s) => recordAgent(s.agent) === agent && s.sessionId);
  const last = mine[0];
  if (!last?.sessionId) return { resumeNote: `no earlier ${agent} session of the role to resume: a fresh run` };
  const holder = mine.find((s) => s.live && s.sessionId === last.sessionId);
  if (holder)
    return {
      resumeNote: `its last session ${last.sessionId} is open in live pid ${holder.pid} (resuming it would start a copy): a fresh run`,
    };
  if (agent !== "codex" && last.cwd !== undefined && last.cwd !== cwd)
    return { resumeNote: `its last session ${last.sessionId} ran in ${last.cwd}, not in the role's cwd ${cwd}: a fresh run` };
  return { resume: { sessionId: last.sessionId, pid: last.pid, lastSeen: last.lastSeen } };
}

/** `hook NAME … --agent AGENT`, however the installer quoted the words. */
function isOurHook(command: unknown, name: "recv" | "guard", agent: AgentName): boolean {
  if (typeof command !== "string") return false;
  const words = command.split(/\s+/).map((w) => w.replace(/^'|'$/g, ""));
  const at = words.indexOf("hook");
  return at >= 0 && words[at + 1] === name && words.at(-2) === "--agent" && words.at(-1) === agent;
}

interface Found {
  event: string;
  group: number;
  handler: number;
}

function findHook(doc: unknown, event: string, matcher: string | undefined, name: "recv" | "guard", agent: AgentName): Found | undefined {
  const groups = isRecord(doc) && isRecord(doc.hooks) ? doc.hooks[event] : undefined;
  if (!Array.isArray(groups)) return undefined;
  for (const [group, g] of groups.entries()) {
    if (!isRecord(g) || !Array.isArray(g.hooks)) continue;
    if (matcher !== undefined && g.matcher !== matcher) continue;
    for (const [handler, h] of g.hooks.entries()) if (isRecord(h) && isOurHook(h.command, name, agent)) return { event, group, handler };
  }
  return undefined;
}

function readJson(path: string): { value?: unknown; error?: string } {
  try {
    const text = readFileIfExists(path);
    if (text === undefined) return {};
    const value = parseJson(text);
    return value === undefined ? { error: `${path} is not valid JSON` } : { value };
  } catch (err) {
    return { error: describeError(err) };
  }
}

/** Why a Codex run would lack its rails, or undefined when our hooks are there and approved. */
export function codexRails(env: NodeJS.ProcessEnv): string | undefined {
  const home = resolveCodexHome(undefined, env);
  const fix = "run `session-bridge install --agent codex` where the daemon runs";
  const hooks = readJson(home.hooksPath);
  if (hooks.error) return `${hooks.error}; ${fix}`;
  const recv = findHook(hooks.value, "UserPromptSubmit", undefined, "recv", "codex");
  const guard = findHook(hooks.value, "PreToolUse", "Bash", "guard", "codex");
  if (!recv) return `no \`hook recv --agent codex\` on UserPromptSubmit in ${home.hooksPath}, so the run would not get its mail; ${fix}`;
  if (!guard)
    return `no \`hook guard --agent codex\` on PreToolUse (Bash) in ${home.hooksPath}, so nothing would deny git commit/push/reset; ${fix}`;
  // Codex writes `[hooks.state."KEY"]` with a trusted_hash once a person approves a hook. Its hash
  // cannot be checked from outside, so an entry is evidence, not proof (install/doctor-vendors.ts).
  const config = readFileIfExists(home.configPath) ?? "";
  const unapproved = [recv, guard].filter((f) => !config.includes(`[hooks.state.${JSON.stringify(trustKey(home.hooksPath, f))}]`));
  if (unapproved.length > 0)
    return `Codex skips hooks nobody approved, without a word, and ${unapproved.map((f) => `${f.event} hook ${f === recv ? "recv" : "guard"}`).join(" and ")} ${unapproved.length > 1 ? "have" : "has"} no approval in ${home.configPath}; start \`codex\` once and choose "Trust all and continue" (or approve them in /hooks)`;
  return undefined;
}

function trustKey(hooksPath: string, f: Found): string {
  return codexTrustKey(hooksPath, f.event, f.group, f.handler);
}

/** Why a Gemini run would lack its rails, or undefined when our hooks are in its user settings. */
export function geminiRails(env: NodeJS.ProcessEnv): string | undefined {
  const home = resolveGeminiHome(undefined, env);
  const fix = "run `session-bridge install --agent gemini` where the daemon runs";
  const settings = readJson(home.settingsPath);
  if (settings.error) return `${settings.error}; ${fix}`;
  if (!findHook(settings.value, "BeforeAgent", undefined, "recv", "gemini"))
    return `no \`hook recv --agent gemini\` on BeforeAgent in ${home.settingsPath}, so the run would not get its mail; ${fix}`;
  if (!findHook(settings.value, "BeforeTool", "run_shell_command", "guard", "gemini"))
    return `no \`hook guard --agent gemini\` on BeforeTool (run_shell_command) in ${home.settingsPath}, so nothing would deny git commit/push/reset; ${fix}`;
  return undefined;
}

/** One line for `spawner status` and the run log. */
export function describeSpawnTarget(t: SpawnTarget): string {
  const how = runLabel(t.agent);
  const resume = t.resume ? `, resuming its ${t.agent} session ${t.resume.sessionId}` : t.resumeNote ? ` (resume: ${t.resumeNote})` : "";
  return `${how} in ${t.cwd}${resume}`;
}
