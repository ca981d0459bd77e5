// What the BRIDGE_* variables of a session say about its identity: none at all (an ordinary
// session: the hooks leave at once), a complete one, or half of one. Half an identity
// (BRIDGE_PROJECT without BRIDGE_ROLE, a name that is not a name, BRIDGE_ROLES for BRIDGE_ROLE) is
// a session that was meant to be bridged and is not, so every face says so instead of going
// quiet (README "Connect two sessions"). The hooks' own first check is lib/env.ts.
import { hasIdentityVariables, KNOWN_VARIABLES, unknownVariables } from "../lib/env.ts";
import { closest, jsonLine } from "../lib/text.ts";
import { NAME_PATTERN } from "./layout.ts";

export type EnvIdentity =
  | { kind: "none" }
  | { kind: "complete"; project: string; role: string; unknown: string[] }
  | { kind: "half"; problems: string[]; fix: string };

const NAME_RULE = "1–64 of A-Z a-z 0-9 . _ -, starting with a letter or digit";

export function identityFromEnv(env: NodeJS.ProcessEnv): EnvIdentity {
  if (!hasIdentityVariables(env)) return { kind: "none" };
  const project = env.BRIDGE_PROJECT || undefined;
  const role = env.BRIDGE_ROLE || undefined;
  const unknown = unknownVariables(env);
  const problems: string[] = [];
  if (project === undefined) problems.push("BRIDGE_PROJECT is not set");
  else if (!NAME_PATTERN.test(project)) problems.push(`BRIDGE_PROJECT=${quote(project)} is not a project name (${NAME_RULE})`);
  if (role === undefined) problems.push("BRIDGE_ROLE is not set");
  else if (!NAME_PATTERN.test(role)) problems.push(`BRIDGE_ROLE=${quote(role)} is not a role name (${NAME_RULE})`);
  if (problems.length === 0) return { kind: "complete", project: project!, role: role!, unknown };
  for (const name of unknown) problems.push(describeUnknown(name));
  const example = `BRIDGE_PROJECT=${project && NAME_PATTERN.test(project) ? project : "shop"} BRIDGE_ROLE=${role && NAME_PATTERN.test(role) ? role : "web"} claude`;
  const set = ["BRIDGE_PROJECT", "BRIDGE_ROLE", ...unknown].filter((k) => env[k]);
  return {
    kind: "half",
    problems,
    fix: `restart Claude Code with both set to names, e.g. \`${example}\`; or unset ${set.join(" and ")} to run it unbridged`,
  };
}

/** One line for people: what is wrong with `subject`'s identity and how to fix it. */
export function describeHalfIdentity(identity: Extract<EnvIdentity, { kind: "half" }>, subject = "this session"): string {
  return `${subject} is not connected to a bridge project, though its environment tries to: ${identity.problems.join("; ")}. To fix it, ${identity.fix}`;
}

export function describeUnknown(name: string): string {
  const near = closest(name, KNOWN_VARIABLES);
  return `${quote(name)} is not a variable session-bridge reads${near ? ` (did you mean ${near}?)` : ""}`;
}

/** A value from the environment, quoted and unable to drive a terminal. */
function quote(value: string): string {
  return jsonLine(value);
}
