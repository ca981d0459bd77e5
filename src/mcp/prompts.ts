// The MCP prompts, which Claude Code offers as slash commands `/mcp__session-bridge__<name>` with
// space-separated arguments (Claude Code splits on whitespace and fills the declared arguments in
// order, so free-form values are one `key=value` word each). A prompt that changes settings applies
// the change itself and returns one user message saying exactly what changed, or why nothing did.
import { BridgeError, describeError } from "../lib/errors.ts";
import { validateName } from "../bus/layout.ts";
import type { McpContext } from "./context.ts";
import { adminRefusal, describeConfig, describeRoleNow } from "./settings-tools.ts";
import { configureRole, describeUpdate, parseAssignment, setRoleMode, turnOff, turnOn, updateGlobal } from "../settings/ops.ts";
import type { Mode } from "../settings/schema.ts";
import { ROLE_KEYS } from "../settings/schema.ts";

interface PromptArgument {
  name: string;
  description: string;
  required?: boolean;
}

interface PromptDef {
  name: string;
  description: string;
  arguments: PromptArgument[];
  admin?: boolean;
  run(ctx: McpContext, args: Record<string, string | undefined>): string;
}

export interface PromptResult {
  [key: string]: unknown;
  description: string;
  messages: { role: "user"; content: { type: "text"; text: string } }[];
}

const LIMIT_KEYS = ["maxHops", "rateLimitPerMinute", "cooldownSeconds", "maxBodyBytes", "spawn.maxTurns", "spawn.timeoutSeconds"];
const ROLE_ARG: PromptArgument = {
  name: "role",
  description: 'a role of this project ("web"), or project/role ("shop/web")',
  required: true,
};

/** "web" (this session's project) or "shop/web". */
function target(ctx: McpContext, value: string | undefined): { project: string; role: string } {
  const text = value?.trim() ?? "";
  const slash = text.indexOf("/");
  if (slash !== -1) return { project: validateName("project", text.slice(0, slash)), role: validateName("role", text.slice(slash + 1)) };
  const role = validateName("role", text);
  if (!ctx.project)
    throw new BridgeError("E_USAGE", `this session has no bridge project, so give the role as project/role (e.g. shop/${role})`);
  return { project: ctx.project, role };
}

/** Each given value is one `key=value` word; `key=` resets the key. */
function assignments(values: (string | undefined)[], allowed: readonly string[]): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const value of values) {
    if (value === undefined || value.trim() === "") continue;
    const [key, parsed] = parseAssignment(value.trim());
    if (!allowed.includes(key)) throw new BridgeError("E_USAGE", `"${key}" cannot be set here (keys: ${allowed.join(", ")})`);
    patch[key] = parsed;
  }
  if (Object.keys(patch).length === 0) throw new BridgeError("E_USAGE", `give at least one key=value (keys: ${allowed.join(", ")})`);
  return patch;
}

const PROMPTS: readonly PromptDef[] = [
  {
    name: "show-config",
    description: "Show the session-bridge automation settings, effective per role of this project (or the one given)",
    arguments: [{ name: "project", description: "bridge project (default: this session's)" }],
    run: (ctx, args) => describeConfig(ctx, args.project ? validateName("project", args.project) : ctx.project),
  },
  {
    name: "set-mode",
    description: "Admin: turn automatic wake-ups of one role on (auto) or off (manual)",
    arguments: [ROLE_ARG, { name: "mode", description: "auto or manual", required: true }],
    admin: true,
    run(ctx, args) {
      const { project, role } = target(ctx, args.role);
      const update = setRoleMode(ctx.root, project, role, (args.mode ?? "") as Mode);
      return `${describeUpdate(update)}\n${describeRoleNow(project, role, update)}`;
    },
  },
  {
    name: "configure-role",
    description: `Admin: configure one role for wake-ups with key=value words (${Object.keys(ROLE_KEYS).join(", ")}; key= unsets)`,
    arguments: [
      ROLE_ARG,
      { name: "setting", description: "key=value, e.g. cwd=/home/me/shop/web", required: true },
      { name: "setting2", description: "key=value" },
      { name: "setting3", description: "key=value" },
      { name: "setting4", description: "key=value" },
    ],
    admin: true,
    run(ctx, args) {
      const { project, role } = target(ctx, args.role);
      const patch = assignments([args.setting, args.setting2, args.setting3, args.setting4], Object.keys(ROLE_KEYS));
      const update = configureRole(ctx.root, project, role, patch);
      return `${describeUpdate(update)}\n${describeRoleNow(project, role, update)}`;
    },
  },
  {
    name: "set-driver",
    description: "Admin: choose how idle sessions are woken (tmux or spawn), globally or for one role",
    arguments: [
      { name: "driver", description: "tmux, spawn or socket", required: true },
      { name: "role", description: 'only this role ("web" or "shop/web"); default: the global driver' },
    ],
    admin: true,
    run(ctx, args) {
      if (!args.role) return describeUpdate(updateGlobal(ctx.root, { driver: args.driver }));
      const { project, role } = target(ctx, args.role);
      const update = configureRole(ctx.root, project, role, { driver: args.driver });
      return `${describeUpdate(update)}\n${describeRoleNow(project, role, update)}`;
    },
  },
  {
    name: "automation",
    description: "Admin: turn automatic wake-ups on or off: everywhere (the master switch), for a project, or for one role",
    arguments: [
      { name: "state", description: "on or off", required: true },
      { name: "project", description: "only this project" },
      { name: "role", description: "only this role of the project" },
    ],
    admin: true,
    run(ctx, args) {
      const state = args.state?.trim().toLowerCase();
      if (state !== "on" && state !== "off")
        throw new BridgeError("E_USAGE", `state must be "on" or "off" (got ${JSON.stringify(args.state ?? "")})`);
      if (args.role && !args.project) throw new BridgeError("E_USAGE", "give the project before the role (automation on shop web)");
      const update = (state === "on" ? turnOn : turnOff)(ctx.root, args.project || undefined, args.role || undefined);
      const notes =
        state === "on" && update.settings.defaultOffRoles.length > 0
          ? `\nnote: default-off roles (${update.settings.defaultOffRoles.join(", ")}) stay manual unless opted in by name`
          : "";
      return describeUpdate(update) + notes;
    },
  },
  {
    name: "set-limits",
    description: `Admin: change the wake-up limits with key=value words (${LIMIT_KEYS.join(", ")}; key= resets)`,
    arguments: [
      { name: "limit", description: "key=value, e.g. maxHops=4", required: true },
      { name: "limit2", description: "key=value" },
      { name: "limit3", description: "key=value" },
    ],
    admin: true,
    run: (ctx, args) => describeUpdate(updateGlobal(ctx.root, assignments([args.limit, args.limit2, args.limit3], LIMIT_KEYS))),
  },
];

export function listPrompts(): { name: string; description: string; arguments: PromptArgument[] }[] {
  return PROMPTS.map(({ name, description, arguments: args }) => ({ name, description, arguments: args }));
}

export function getPrompt(ctx: McpContext, name: string, args: Record<string, string> | undefined): PromptResult {
  const prompt = PROMPTS.find((p) => p.name === name);
  if (!prompt) throw new BridgeError("E_NOT_FOUND", `no prompt "${name}" (prompts: ${PROMPTS.map((p) => p.name).join(", ")})`);
  const title = `[session-bridge /${name}]`;
  let text: string;
  if (prompt.admin && !ctx.admin) {
    text = `${title} not changed: ${adminRefusal(`/${name}`, ctx)}`;
  } else {
    try {
      const result = prompt.run(ctx, args ?? {});
      text = prompt.admin
        ? `${title} the user ran this command; session-bridge applied it:\n${result}\nConfirm the outcome to the user in a sentence; nothing else to do.`
        : `${title}\n${result}`;
    } catch (err) {
      text = prompt.admin
        ? `${title} not changed: ${describeError(err)}\nTell the user why in a sentence; do not try to change the settings another way.`
        : `${title} failed: ${describeError(err)}`;
    }
  }
  return { description: prompt.description, messages: [{ role: "user", content: { type: "text", text } }] };
}
