// The automation settings: their types, defaults, and a validator that names the bad key.
// Pure: no files here (src/settings/file.ts reads and writes them).
import { isRecord } from "../lib/fs.ts";
import { NAME_PATTERN } from "../bus/layout.ts";
import { AGENTS } from "../agents/agent.ts";
import type { AgentName } from "../agents/agent.ts";

export type Mode = "auto" | "manual";
export type DriverName = "tmux" | "spawn" | "socket";
export const MODES: readonly Mode[] = ["auto", "manual"];
export const DRIVERS: readonly DriverName[] = ["tmux", "spawn", "socket"];
/** What the socket driver hands a wake to when the socket cannot take it ("none": nobody). */
export type FallbackName = "none" | "tmux" | "spawn";
export const FALLBACKS: readonly FallbackName[] = ["none", "tmux", "spawn"];
export const PERMISSION_MODES = ["default", "acceptEdits", "plan", "auto", "dontAsk", "bypassPermissions"] as const;
export type PermissionMode = (typeof PERMISSION_MODES)[number];

export interface RoleSettings {
  mode?: Mode;
  driver?: DriverName;
  fallback?: FallbackName;
  cwd?: string;
  model?: string;
  tmuxTarget?: string;
  permissionMode?: PermissionMode;
  /** The CLI the spawn driver runs when the role's session records do not say (claude, codex, gemini). */
  agent?: AgentName;
  /** Spawn driver: continue the role's own last closed session (`--resume`) instead of a fresh run. */
  resume?: boolean;
}

export interface ProjectSettings {
  mode?: Mode;
  roles?: Record<string, RoleSettings>;
}

export interface Settings {
  /** Master switch: nothing is ever woken while false. */
  enabled: boolean;
  /** Mode of roles with no per-project or per-role mode (`spawner on` with no names sets auto). */
  defaultMode: Mode;
  driver: DriverName;
  /** The socket driver's next driver when the socket fails, is gone, or the session is busy. */
  fallback: FallbackName;
  maxHops: number;
  rateLimitPerMinute: number;
  cooldownSeconds: number;
  denyTools: string[];
  defaultOffRoles: string[];
  nudgePrompt: string;
  maxBodyBytes: number;
  /** fdatasync every append: survives power loss too, at roughly a third of the throughput. */
  fsync: boolean;
  compactBytes: number;
  historyFiles: number;
  spawn: { maxTurns: number; timeoutSeconds: number; permissionMode: PermissionMode; resume: boolean };
  guard: { deny: string[] };
  projects: Record<string, ProjectSettings>;
}

export const DEFAULT_NUDGE =
  "[session-bridge] New messages from sibling sessions are waiting for you; they are included in this turn's context. Read them and act on them if appropriate.";

export function defaultSettings(): Settings {
  return {
    enabled: false,
    defaultMode: "manual",
    driver: "tmux",
    fallback: "none",
    maxHops: 6,
    rateLimitPerMinute: 12,
    cooldownSeconds: 10,
    denyTools: ["Bash(git commit:*)", "Bash(git push:*)", "Bash(git reset:*)"],
    defaultOffRoles: ["infra", "qa"],
    nudgePrompt: DEFAULT_NUDGE,
    maxBodyBytes: 256 * 1024,
    fsync: false,
    compactBytes: 1024 * 1024,
    historyFiles: 8,
    spawn: { maxTurns: 30, timeoutSeconds: 900, permissionMode: "acceptEdits", resume: false },
    guard: { deny: [] },
    projects: {},
  };
}

type Check = (value: unknown) => string | undefined;

const int =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? undefined : `an integer from ${min} to ${max}`;
const num =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === "number" && Number.isFinite(v) && v >= min && v <= max ? undefined : `a number from ${min} to ${max}`;
const bool: Check = (v) => (typeof v === "boolean" ? undefined : "true or false");
const oneOf =
  (values: readonly string[]): Check =>
  (v) =>
    typeof v === "string" && values.includes(v) ? undefined : `one of ${values.join(", ")}`;
const text =
  (max: number): Check =>
  (v) =>
    typeof v === "string" && v.trim().length > 0 && v.length <= max ? undefined : `a non-empty string of at most ${max} characters`;
// Typed into a terminal by the tmux driver: one printable line only.
const singleLine =
  (max: number): Check =>
  (v) =>
    text(max)(v) ?? (/[\u0000-\u001f\u007f]/.test(v as string) ? "one line of printable text (no control characters)" : undefined);
const absPath: Check = (v) => (typeof v === "string" && v.startsWith("/") && !v.includes("\0") ? undefined : "an absolute path");
const list =
  (item: Check, what: string): Check =>
  (v) =>
    Array.isArray(v) && v.every((x) => item(x) === undefined) ? undefined : `a list of ${what}`;
const roleName: Check = (v) => (typeof v === "string" && NAME_PATTERN.test(v) ? undefined : "a role name");

const TOP: Record<string, Check> = {
  enabled: bool,
  defaultMode: oneOf(MODES),
  driver: oneOf(DRIVERS),
  fallback: oneOf(FALLBACKS),
  maxHops: int(1, 100),
  rateLimitPerMinute: int(1, 600),
  cooldownSeconds: num(0, 3600),
  denyTools: list(text(200), 'tool patterns such as "Bash(git push:*)"'),
  defaultOffRoles: list(roleName, "role names"),
  nudgePrompt: singleLine(500),
  maxBodyBytes: int(1, 16 * 1024 * 1024),
  fsync: bool,
  compactBytes: int(4096, 1024 * 1024 * 1024),
  historyFiles: int(0, 1000),
};
const SPAWN: Record<string, Check> = {
  maxTurns: int(1, 1000),
  timeoutSeconds: int(5, 86_400),
  permissionMode: oneOf(PERMISSION_MODES),
  resume: bool,
};
const GUARD: Record<string, Check> = { deny: list(text(200), 'command patterns such as "kubectl apply"') };
export const ROLE_KEYS: Record<string, Check> = {
  mode: oneOf(MODES),
  driver: oneOf(DRIVERS),
  fallback: oneOf(FALLBACKS),
  cwd: absPath,
  model: text(100),
  tmuxTarget: text(200),
  permissionMode: oneOf(PERMISSION_MODES),
  agent: oneOf(AGENTS),
  resume: bool,
};

/** Role keys whose value is not text, for parsing `key=value` (the global defaults give the others' types). */
export const ROLE_SAMPLES: Record<string, unknown> = { resume: false };

/** Keys a user may set at the top level (what `spawner config` and `bridge_settings` accept). */
export const GLOBAL_KEYS = [...Object.keys(TOP), ...Object.keys(SPAWN).map((k) => `spawn.${k}`), "guard.deny"];

/** Returns every problem in a settings file's content, each naming its key; [] when valid. */
export function validateSettings(value: unknown): string[] {
  const problems: string[] = [];
  checkObject(value, "", TOP, problems, {
    spawn: (v, key) => checkObject(v, key, SPAWN, problems),
    guard: (v, key) => checkObject(v, key, GUARD, problems),
    projects: (v, key) => checkProjects(v, key, problems),
  });
  return problems;
}

function checkObject(
  value: unknown,
  prefix: string,
  checks: Record<string, Check>,
  problems: string[],
  nested: Record<string, (v: unknown, key: string) => void> = {},
): void {
  if (!isRecord(value)) {
    problems.push(`${prefix || "the file"} must be a JSON object`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    const sub = Object.hasOwn(nested, key) ? nested[key] : undefined;
    if (sub) {
      sub(v, name);
      continue;
    }
    const check = Object.hasOwn(checks, key) ? checks[key] : undefined;
    if (!check) {
      const known = [...Object.keys(checks), ...Object.keys(nested)].join(", ");
      problems.push(`unknown key "${name}" (known: ${known})`);
      continue;
    }
    const want = check(v);
    if (want) problems.push(`"${name}" must be ${want} (got ${JSON.stringify(v) ?? String(v)})`);
  }
}

function checkProjects(value: unknown, prefix: string, problems: string[]): void {
  if (!isRecord(value)) {
    problems.push(`"${prefix}" must be an object of project names`);
    return;
  }
  for (const [project, settings] of Object.entries(value)) {
    const key = `${prefix}.${project}`;
    if (!NAME_PATTERN.test(project)) problems.push(`"${key}": "${project}" is not a valid project name`);
    checkObject(settings, key, { mode: oneOf(MODES) }, problems, {
      roles: (roles, rolesKey) => {
        if (!isRecord(roles)) {
          problems.push(`"${rolesKey}" must be an object of role names`);
          return;
        }
        for (const [role, rs] of Object.entries(roles)) {
          if (!NAME_PATTERN.test(role)) problems.push(`"${rolesKey}.${role}": "${role}" is not a valid role name`);
          checkObject(rs, `${rolesKey}.${role}`, ROLE_KEYS, problems);
        }
      },
    });
  }
}

/** The value at a dotted key such as "spawn.timeoutSeconds" (undefined for an unknown key). */
export function settingAt(settings: Settings, key: string): unknown {
  let node: unknown = settings;
  for (const part of key.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

/** Defaults overlaid with the file's values, objects merged key by key, lists replaced whole. */
export function mergeSettings(overrides: Record<string, unknown>): Settings {
  return deepMerge(defaultSettings() as unknown as Record<string, unknown>, overrides) as unknown as Settings;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isRecord(current) && isRecord(value) ? deepMerge(current, value) : structuredClone(value);
  }
  return out;
}

export interface EffectiveRole {
  project: string;
  role: string;
  /** True when automatic wakes are allowed for this role by the mode settings. */
  auto: boolean;
  mode: Mode;
  /** Why the mode is what it is, with the command that changes it. */
  why: string;
  driver: DriverName;
  fallback: FallbackName;
  cwd?: string;
  model?: string;
  tmuxTarget?: string;
  permissionMode: PermissionMode;
  /** Set by name (projects.P.roles.R.agent); otherwise the spawn driver asks the role's session records. */
  agent?: AgentName;
  /** Whether the spawn driver resumes the role's last closed session (role key `resume`, else spawn.resume). */
  resume: boolean;
}

export function effectiveRole(settings: Settings, project: string, role: string): EffectiveRole {
  const projectSettings = settings.projects[project];
  const roleSettings: RoleSettings = projectSettings?.roles?.[role] ?? {};
  const base = {
    project,
    role,
    driver: roleSettings.driver ?? settings.driver,
    fallback: roleSettings.fallback ?? settings.fallback,
    permissionMode: roleSettings.permissionMode ?? settings.spawn.permissionMode,
    resume: roleSettings.resume ?? settings.spawn.resume,
    ...(roleSettings.agent !== undefined && { agent: roleSettings.agent }),
    ...(roleSettings.cwd !== undefined && { cwd: roleSettings.cwd }),
    ...(roleSettings.model !== undefined && { model: roleSettings.model }),
    ...(roleSettings.tmuxTarget !== undefined && { tmuxTarget: roleSettings.tmuxTarget }),
  };
  const mode = (m: Mode, why: string): EffectiveRole => ({ ...base, mode: m, auto: m === "auto" && settings.enabled, why });
  if (!settings.enabled) {
    const configured = roleSettings.mode ?? projectSettings?.mode ?? settings.defaultMode;
    return { ...mode(configured, ""), auto: false, why: "automation is off (enabled: false); turn it on with `session-bridge spawner on`" };
  }
  if (roleSettings.mode) {
    return mode(roleSettings.mode, `${roleSettings.mode} by name (projects.${project}.roles.${role}.mode)`);
  }
  if (settings.defaultOffRoles.includes(role)) {
    return mode("manual", `"${role}" is a default-off role; opt it in by name: session-bridge spawner on ${project} ${role}`);
  }
  if (projectSettings?.mode) {
    return mode(projectSettings.mode, `${projectSettings.mode} for project ${project} (projects.${project}.mode)`);
  }
  return mode(
    settings.defaultMode,
    settings.defaultMode === "auto"
      ? "auto for every role (defaultMode: auto)"
      : `manual by default; opt in with \`session-bridge spawner on ${project} ${role}\` or \`session-bridge spawner on ${project}\``,
  );
}
