// What one `session-bridge mcp` process knows about the session it serves: read once from the
// environment Claude Code launched it with. The server is often registered globally (user scope),
// so a session without BRIDGE_PROJECT/BRIDGE_ROLE is normal: every tool then says how to connect.
import { checkIdentity } from "../bus.ts";
import type { CheckedIdentity, Identity } from "../bus.ts";
import { BridgeError } from "../lib/errors.ts";
import { NAME_PATTERN, resolveRoot, validateName } from "../bus/layout.ts";
import { describeHalfIdentity, identityFromEnv } from "../bus/identity-env.ts";
import type { SessionInfo } from "../bus/sessions.ts";

export interface McpContext {
  root: string;
  env: NodeJS.ProcessEnv;
  /** BRIDGE_ADMIN=1 in the server's environment: the settings tools and prompts may write. */
  admin: boolean;
  identity?: Identity;
  /** A valid BRIDGE_PROJECT, even without a role (roles, status and config still work). */
  project?: string;
  /** Set exactly when `identity` is not: why, and how to connect. */
  unbridged?: string;
  /** Some identity variables are set, but not a usable identity: a mistake to tell the user about. */
  halfIdentity?: boolean;
  /** The session record this server keeps fresh (set once registered). */
  session?: SessionInfo;
}

export const CONNECT_EXAMPLE = "BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude";
export const ADMIN_EXAMPLE = "BRIDGE_ADMIN=1 BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude";

export function contextFromEnv(env: NodeJS.ProcessEnv): McpContext {
  const root = resolveRoot(env);
  const admin = env.BRIDGE_ADMIN === "1";
  const found = identityFromEnv(env);
  if (found.kind === "complete") {
    const { project, role } = found;
    return { root, env, admin, project, identity: { root, project, role } };
  }
  const p = env.BRIDGE_PROJECT;
  const project = p && NAME_PATTERN.test(p) ? p : undefined;
  return {
    root,
    env,
    admin,
    ...(project && { project }),
    ...(found.kind === "half" && { halfIdentity: true }),
    unbridged:
      found.kind === "half"
        ? `${describeHalfIdentity(found, "this Claude Code session")}; the bridge's MCP server reads them when the session starts`
        : "this Claude Code session is not connected to session-bridge (BRIDGE_PROJECT is not set; BRIDGE_ROLE is not set). " +
          `To connect, start Claude Code with a project and a role, e.g. \`${CONNECT_EXAMPLE}\`; ` +
          "the bridge's MCP server reads them when the session starts, so set them and restart the session",
  };
}

/** This session's identity, its folders checked afresh for this request. */
export function needIdentity(ctx: McpContext): CheckedIdentity {
  if (ctx.identity) return checkIdentity(ctx.identity);
  throw new BridgeError("E_NO_IDENTITY", ctx.unbridged ?? "no bridge identity");
}

/** The project an answer is about: the one given, else this session's. */
export function needProject(ctx: McpContext, given?: unknown): string {
  if (typeof given === "string" && given !== "") return validateName("project", given);
  if (ctx.project) return ctx.project;
  throw new BridgeError(
    "E_NO_IDENTITY",
    `no project given, and ${ctx.unbridged ?? "this session has no BRIDGE_PROJECT"}; or pass "project" explicitly`,
  );
}

/** Who consumed, for receipts and `status`: "mcp bridge_recv (claude session X, pid Y)". */
export function mcpConsumer(ctx: McpContext, tool: string): string {
  const parts = [...(ctx.session?.sessionId ? [`claude session ${ctx.session.sessionId}`] : []), `pid ${ctx.session?.pid ?? process.pid}`];
  return `mcp ${tool} (${parts.join(", ")})`;
}
