// The settings changes a user can make, shared by every face that changes them (the spawner
// CLI, the admin MCP tools and prompts, the dashboard's admin buttons): one validated, locked
// write path, one wording for "what changed".
import { setPath, updateSettings } from "./file.ts";
import type { Overrides, SettingsUpdate } from "./file.ts";
import { BridgeError } from "../lib/errors.ts";
import { closest } from "../lib/text.ts";
import { validateName } from "../bus/layout.ts";
import { listProjects, listRoles } from "../bus.ts";
import { defaultSettings, GLOBAL_KEYS, ROLE_KEYS, ROLE_SAMPLES, settingAt } from "./schema.ts";
import type { Mode, Settings } from "./schema.ts";

/**
 * A session must not flip its own rails: a command run inside Claude Code (CLAUDECODE=1, which its
 * Bash tool sets) may change the settings only in a session started with BRIDGE_ADMIN=1.
 */
export function assertMayChangeSettings(env: NodeJS.ProcessEnv, why: string, fix: string): void {
  if (env.CLAUDECODE === "1" && env.BRIDGE_ADMIN !== "1") {
    throw new BridgeError("E_ADMIN_ONLY", `${why} (CLAUDECODE=1 without BRIDGE_ADMIN=1); ${fix}`);
  }
}

/**
 * Refuses a project or role that no session has joined (it has no folder) and the settings do
 * not name yet: most likely a typo, which would otherwise be saved and never match anything.
 * `force` configures one that will join later. Names the known ones, and the likely one.
 */
export function assertKnownTarget(root: string, settings: Settings, project: string, role?: string, force = false): void {
  if (force) return;
  validateName("project", project);
  if (role !== undefined) validateName("role", role);
  const projects = [...new Set([...listProjects(root), ...Object.keys(settings.projects)])].sort();
  if (!projects.includes(project)) {
    const near = closest(project, projects);
    throw new BridgeError(
      "E_UNKNOWN_PROJECT",
      `no role has joined project "${project}" and the settings do not name it (known projects: ${projects.join(", ") || "none yet"}${near ? `; did you mean "${near}"?` : ""}); nothing changed. Check the name, or add --force to configure a project before its first role joins`,
    );
  }
  if (role === undefined) return;
  const roles = [...new Set([...listRoles(root, project), ...Object.keys(settings.projects[project]?.roles ?? {})])].sort();
  if (!roles.includes(role)) {
    const near = closest(role, roles);
    throw new BridgeError(
      "E_UNKNOWN_ROLE",
      `role "${role}" has not joined project "${project}" and the settings do not name it (known roles: ${roles.join(", ") || "none yet"}${near ? `; did you mean "${near}"?` : ""}); nothing changed. Check the name, or add --force to configure a role before it joins`,
    );
  }
}

/** `spawner on [project] [role]`: opt in globally, for a project, or one role (and flip the master switch on). */
export function turnOn(root: string, project?: string, role?: string): SettingsUpdate {
  return updateSettings(root, (o) => {
    o.enabled = true;
    if (project === undefined) o.defaultMode = "auto";
    else if (role === undefined) setPath(o, ["projects", validateName("project", project), "mode"], "auto");
    else setPath(o, ["projects", validateName("project", project), "roles", validateName("role", role), "mode"], "auto");
  });
}

/** `spawner off`: master switch off (nothing is woken); with names, that project or role goes manual. */
export function turnOff(root: string, project?: string, role?: string): SettingsUpdate {
  return updateSettings(root, (o) => {
    if (project === undefined) o.enabled = false;
    else if (role === undefined) setPath(o, ["projects", validateName("project", project), "mode"], "manual");
    else setPath(o, ["projects", validateName("project", project), "roles", validateName("role", role), "mode"], "manual");
  });
}

export function setRoleMode(root: string, project: string, role: string, mode: Mode): SettingsUpdate {
  if (mode !== "auto" && mode !== "manual")
    throw new BridgeError("E_USAGE", `mode must be "auto" or "manual" (got ${JSON.stringify(mode)})`);
  return updateSettings(root, (o) =>
    setPath(o, ["projects", validateName("project", project), "roles", validateName("role", role), "mode"], mode),
  );
}

/** Sets per-role keys (cwd, model, tmuxTarget, permissionMode, driver, mode); null or "" unsets one. */
export function configureRole(root: string, project: string, role: string, patch: Record<string, unknown>): SettingsUpdate {
  const keys = Object.keys(patch);
  if (keys.length === 0) throw new BridgeError("E_USAGE", `nothing to set: give at least one of ${Object.keys(ROLE_KEYS).join(", ")}`);
  for (const key of keys) {
    if (!Object.hasOwn(ROLE_KEYS, key))
      throw new BridgeError("E_USAGE", `unknown role setting "${key}" (known: ${Object.keys(ROLE_KEYS).join(", ")})`);
  }
  return updateSettings(root, (o) => {
    const base = ["projects", validateName("project", project), "roles", validateName("role", role)];
    for (const [key, value] of Object.entries(patch)) {
      if (value === null || value === "") unsetPath(o, [...base, key]);
      else setPath(o, [...base, key], value);
    }
  });
}

/** Sets global keys (`maxHops`, `spawn.timeoutSeconds`, `guard.deny`, …); null resets one to its default. */
export function updateGlobal(root: string, patch: Record<string, unknown>): SettingsUpdate {
  const keys = Object.keys(patch);
  if (keys.length === 0) throw new BridgeError("E_USAGE", `nothing to set: give at least one of ${GLOBAL_KEYS.join(", ")}`);
  for (const key of keys) {
    if (!GLOBAL_KEYS.includes(key)) throw new BridgeError("E_USAGE", `unknown setting "${key}" (known: ${GLOBAL_KEYS.join(", ")})`);
  }
  return updateSettings(root, (o) => {
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) unsetPath(o, key.split("."));
      else setPath(o, key.split("."), value);
    }
  });
}

function unsetPath(o: Overrides, path: string[]): void {
  let node: unknown = o;
  for (const key of path.slice(0, -1)) {
    node = (node as Record<string, unknown> | undefined)?.[key];
    if (typeof node !== "object" || node === null) return;
  }
  delete (node as Record<string, unknown>)[path[path.length - 1]!];
}

/**
 * Parses `key=value` from the command line into a typed value, by the default's type:
 * numbers, true/false, comma-separated lists (empty = empty list), text. `key=` resets to the default.
 */
export function parseAssignment(text: string): [string, unknown] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new BridgeError("E_USAGE", `expected key=value (got ${JSON.stringify(text)})`);
  const key = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  const sample = settingAt(defaultSettings(), key) ?? (Object.hasOwn(ROLE_SAMPLES, key) ? ROLE_SAMPLES[key] : undefined);
  if (raw === "") return [key, null];
  if (typeof sample === "number") {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) throw new BridgeError("E_USAGE", `${key} must be a number (got ${JSON.stringify(raw)})`);
    return [key, n];
  }
  if (typeof sample === "boolean") {
    if (raw !== "true" && raw !== "false") throw new BridgeError("E_USAGE", `${key} must be true or false (got ${JSON.stringify(raw)})`);
    return [key, raw === "true"];
  }
  if (Array.isArray(sample))
    return [
      key,
      raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    ];
  return [key, raw];
}

/** One line per change, or a line saying nothing changed. */
export function describeUpdate(update: SettingsUpdate): string {
  if (update.changes.length === 0) return "no change: the settings already were so";
  return `changed:\n${update.changes.map((c) => `  ${c}`).join("\n")}`;
}
