// The settings tools of the MCP server: bridge_config (read, for everyone) and the admin-only
// bridge_mode, bridge_set and bridge_settings. Writes go through src/settings/ops.ts (locked,
// validated, atomic); the input schemas mirror src/settings/schema.ts, whose validator stays the
// authority on ranges. A session must not flip its own rails, so writing needs BRIDGE_ADMIN=1.
import { listProjects, listRoles } from "../bus.ts";
import { settingsPath, loadSettings } from "../settings/file.ts";
import type { SettingsUpdate } from "../settings/file.ts";
import { ADMIN_EXAMPLE, needProject } from "./context.ts";
import type { McpContext } from "./context.ts";
import { ok } from "./format.ts";
import type { ToolDef } from "./bus-tools.ts";
import { configureRole, describeUpdate, setRoleMode, updateGlobal } from "../settings/ops.ts";
import {
  defaultSettings,
  DRIVERS,
  effectiveRole,
  FALLBACKS,
  GLOBAL_KEYS,
  MODES,
  PERMISSION_MODES,
  ROLE_KEYS,
  settingAt,
} from "../settings/schema.ts";
import type { Mode } from "../settings/schema.ts";
import { nullable, objectSchema, oneOf, str } from "./tool-args.ts";
import type { JsonSchema } from "./tool-args.ts";
import { AGENTS } from "../agents/agent.ts";

// Short: the admin tools' schemas are in the context of every admin session's turns. Ranges are
// checked by the settings validator (src/settings/schema.ts), which names them when a value is out.
const GLOBAL_HELP: Record<string, string> = {
  enabled: "master switch: nothing is woken while false",
  defaultMode: "mode of roles without their own",
  driver:
    "tmux: type a nudge into the role's pane; spawn: run the role's CLI headless in its cwd; socket: write it to the session's messaging socket",
  fallback: "socket driver's next driver when the socket cannot take a wake",
  maxHops: "loop guard: no automatic wake past this hop",
  rateLimitPerMinute: "most wakes per role per minute",
  cooldownSeconds: "least seconds between two nudges of a role",
  denyTools: '--disallowedTools of spawned runs, e.g. "Bash(git push:*)"',
  defaultOffRoles: "roles woken only if opted in by name",
  nudgePrompt: "the fixed line typed into a pane to wake it",
  maxBodyBytes: "largest message body",
  fsync: "fdatasync every append",
  compactBytes: "compact an inbox past this many read bytes",
  historyFiles: "compacted files kept per role",
  "spawn.maxTurns": "--max-turns of spawned runs",
  "spawn.timeoutSeconds": "spawned runs are stopped after this",
  "spawn.permissionMode": "--permission-mode of spawned runs",
  "guard.deny": 'command patterns the guard also denies, e.g. "kubectl apply"',
};

const ENUMS: Record<string, readonly string[]> = {
  defaultMode: MODES,
  driver: DRIVERS,
  fallback: FALLBACKS,
  "spawn.permissionMode": PERMISSION_MODES,
};
// The only non-integer number among the settings (settings/schema.ts: num(0, 3600)).
const FRACTIONAL = new Set(["cooldownSeconds"]);

/** One property per GLOBAL_KEYS entry, typed like its default; null resets a key to its default. */
function globalSchema(): Record<string, JsonSchema> {
  const defaults = defaultSettings();
  const properties: Record<string, JsonSchema> = {};
  for (const key of GLOBAL_KEYS) {
    const sample = settingAt(defaults, key);
    const description = `${GLOBAL_HELP[key] ?? key} (default ${JSON.stringify(sample)})`;
    let schema: JsonSchema;
    if (ENUMS[key]) schema = oneOf(description, ENUMS[key]!);
    else if (typeof sample === "boolean") schema = { type: "boolean", description };
    else if (typeof sample === "number") schema = { type: FRACTIONAL.has(key) ? "number" : "integer", description };
    else if (Array.isArray(sample)) schema = { type: "array", items: { type: "string" }, description };
    else schema = str(description);
    properties[key] = nullable(schema);
  }
  return properties;
}

const ROLE_HELP: Record<string, JsonSchema> = {
  mode: oneOf("auto: may be woken; manual: never", MODES),
  driver: oneOf("wake driver (overrides the global one)", DRIVERS),
  fallback: oneOf("socket driver's next driver (overrides the global one)", FALLBACKS),
  cwd: str("absolute folder of spawned runs"),
  model: str("--model of spawned runs"),
  tmuxTarget: str("pane to nudge when no live session names one, e.g. work:2.1"),
  permissionMode: oneOf("--permission-mode of spawned runs", PERMISSION_MODES),
  agent: oneOf("CLI of spawned runs when the role's sessions do not say", AGENTS),
  resume: { type: "boolean", description: "spawned runs resume the role's last closed session" },
};

function roleSchema(): Record<string, JsonSchema> {
  const properties: Record<string, JsonSchema> = {};
  for (const key of Object.keys(ROLE_KEYS)) {
    const base = ROLE_HELP[key] ?? str(key);
    properties[key] = nullable(base);
  }
  return properties;
}

const PROJECT = str("bridge project (default: yours)", { minLength: 1, maxLength: 64 });
const ROLE = str("role name", { minLength: 1, maxLength: 64 });

/** The answer to a non-admin call of a settings-changing tool or prompt: nothing changes. */
export function adminRefusal(what: string, ctx: McpContext): string {
  const example = ctx.identity
    ? `BRIDGE_ADMIN=1 BRIDGE_PROJECT=${ctx.identity.project} BRIDGE_ROLE=${ctx.identity.role} claude`
    : ADMIN_EXAMPLE;
  return (
    `${what} changes the session-bridge automation settings, which only an admin session may do; this session was not started with BRIDGE_ADMIN=1, so nothing was changed. ` +
    `Sessions cannot change their own wake-up rails on purpose: do not edit ${settingsPath(ctx.root)} another way. ` +
    `Tell the user: they can start an admin session with \`${example}\`, or run \`session-bridge spawner ...\` in their own terminal.`
  );
}

/** The effective automation settings as text, per role of `project` when one is known. */
export function describeConfig(ctx: McpContext, project: string | undefined): string {
  const settings = loadSettings(ctx.root);
  const d = defaultSettings();
  const mark = (key: string): string => (JSON.stringify(settingAt(settings, key)) === JSON.stringify(settingAt(d, key)) ? "" : " (set)");
  const v = (key: string): string => `${key} ${JSON.stringify(settingAt(settings, key))}${mark(key)}`;
  const lines = [
    `session-bridge automation settings (${settingsPath(ctx.root)}; "(set)" marks values that differ from the defaults)`,
    `enabled ${settings.enabled}${mark("enabled")}: ${settings.enabled ? "automatic wake-ups may happen for roles in auto mode" : "automation is off: no session is ever woken automatically"}`,
    [v("defaultMode"), v("driver"), v("maxHops"), v("rateLimitPerMinute"), v("cooldownSeconds")].join(", "),
    [v("defaultOffRoles"), v("denyTools"), v("guard.deny")].join(", "),
    v("nudgePrompt"),
    [v("maxBodyBytes"), v("fsync"), v("compactBytes"), v("historyFiles")].join(", "),
    [v("spawn.maxTurns"), v("spawn.timeoutSeconds"), v("spawn.permissionMode")].join(", "),
  ];
  if (!project) {
    const projects = [...new Set([...listProjects(ctx.root), ...Object.keys(settings.projects)])].sort();
    lines.push(`projects: ${projects.join(", ") || "none yet"} (give a project to see its roles)`);
    return lines.join("\n");
  }
  const configured = settings.projects[project];
  const roles = [...new Set([...listRoles(ctx.root, project), ...Object.keys(configured?.roles ?? {})])].sort();
  lines.push(
    `project ${project}${configured?.mode ? ` (project mode ${configured.mode})` : ""}: ${roles.length === 0 ? "no roles yet" : ""}`,
  );
  for (const role of roles) {
    const e = effectiveRole(settings, project, role);
    const extra = (["cwd", "model", "tmuxTarget"] as const).filter((k) => e[k] !== undefined).map((k) => `${k} ${e[k]}`);
    const me = ctx.identity?.project === project && ctx.identity.role === role ? " (you)" : "";
    lines.push(
      `- ${role}${me}: ${e.auto ? "auto" : "manual"} — ${e.why}; driver ${e.driver}, permissionMode ${e.permissionMode}${extra.length ? `, ${extra.join(", ")}` : ""}`,
    );
  }
  return lines.join("\n");
}

export function describeRoleNow(project: string, role: string, update: SettingsUpdate): string {
  const e = effectiveRole(update.settings, project, role);
  return `role ${role} of project ${project} now: wake-ups ${e.auto ? "automatic" : "off (manual)"} — ${e.why}; driver ${e.driver}`;
}

const config: ToolDef = {
  name: "bridge_config",
  description:
    "Show the bridge's automation settings: which roles of this bridge project may be woken automatically, how, and within which limits. Changing them takes an admin session.",
  inputSchema: objectSchema({ project: PROJECT }),
  readOnly: true,
  run({ ctx, args }) {
    const project = typeof args.project === "string" ? needProject(ctx, args.project) : ctx.project;
    let text = describeConfig(ctx, project);
    if (ctx.unbridged) text += `\nnote: ${ctx.unbridged}`;
    return ok(text);
  },
};

const mode: ToolDef = {
  name: "bridge_mode",
  description: "Turn automatic wake-ups on (auto) or off (manual) for one role of a bridge project. Admin sessions only.",
  inputSchema: objectSchema({ project: PROJECT, role: ROLE, mode: oneOf("auto or manual", MODES) }, ["role", "mode"]),
  run({ ctx, args }) {
    const project = needProject(ctx, args.project);
    const role = args.role as string;
    const update = setRoleMode(ctx.root, project, role, args.mode as Mode);
    return ok(`${describeUpdate(update)}\n${describeRoleNow(project, role, update)}`);
  },
};

const set: ToolDef = {
  name: "bridge_set",
  description: 'Set how one role of a bridge project is woken (null or "" unsets a key). Admin sessions only.',
  inputSchema: objectSchema({ project: PROJECT, role: ROLE, ...roleSchema() }, ["role"]),
  run({ ctx, args }) {
    const { project: p, role, ...patch } = args;
    const project = needProject(ctx, p);
    const update = configureRole(ctx.root, project, role as string, patch);
    return ok(`${describeUpdate(update)}\n${describeRoleNow(project, role as string, update)}`);
  },
};

const settingsTool: ToolDef = {
  name: "bridge_settings",
  description:
    "Change the automation settings of every bridge project (null resets a key); nothing is saved if any value is invalid. Admin sessions only.",
  inputSchema: objectSchema(globalSchema()),
  run({ ctx, args }) {
    return ok(describeUpdate(updateGlobal(ctx.root, args)));
  },
};

export const SETTINGS_TOOLS: readonly ToolDef[] = [config, mode, set, settingsTool];
