// The bus: send, receive, peek, tail, roles and status over the file store. Every face (CLI,
// MCP server, hooks, daemon, dashboard) goes through these functions, so they all share one
// exactly-once cursor per role and one truthful answer about delivery.
import { BridgeError, describeError } from "./lib/errors.ts";
import { closest } from "./lib/text.ts";
import { findReceipt } from "./bus/history.ts";
import { appendMessage, consumeUnread, peekUnread, readAllKept } from "./bus/inbox.ts";
import type { ConsumeOptions, ConsumeResult, InboxPosition, StoredMessage } from "./bus/inbox.ts";
import {
  assertReadable,
  BROADCAST,
  ensureRoleDir,
  listNameFolders,
  projectDir,
  projectsDir,
  roleExists,
  rolePaths,
  validateName,
} from "./bus/layout.ts";
import type { RolePaths } from "./bus/layout.ts";
import { sameNameIgnoringCase } from "./bus/names.ts";
import { ID_PATTERN, newId, serializeMessage } from "./bus/message.ts";
import { LINE_MAX_BYTES } from "./bus/lines.ts";
import type { Message, Stamp } from "./bus/message.ts";
import { listSessions } from "./bus/sessions.ts";
import type { SessionView } from "./bus/sessions.ts";
import { isoTime } from "./lib/time.ts";

export interface Identity {
  root: string;
  project: string;
  role: string;
}

/**
 * An identity whose folders were checked once (no links, a root of ours), carried through one
 * command so that it is not proved again at every step. A long-running process (the MCP server)
 * checks again for each request: the folders may change between them.
 */
export interface CheckedIdentity extends Identity {
  readonly paths: RolePaths;
  /** Root, projects/, the project and the role were all real folders (and the root private). */
  readonly joined: boolean;
}

/** Checks `identity`'s folders (E_SYMLINK, or E_IO for a root of someone else's), once. */
export function checkIdentity(identity: Identity): CheckedIdentity {
  if (isChecked(identity)) return identity;
  const joined = assertReadable(identity.root, identity.project, identity.role);
  return {
    root: identity.root,
    project: identity.project,
    role: identity.role,
    paths: rolePaths(identity.root, identity.project, identity.role),
    joined,
  };
}

function isChecked(identity: Identity): identity is CheckedIdentity {
  return "paths" in identity && "joined" in identity;
}

export const CONNECT_HINT = "start Claude Code as a bridge role, e.g. `BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude`";

/** Identity from --project/--role, else BRIDGE_PROJECT/BRIDGE_ROLE; E_NO_IDENTITY says how to set it. */
export function resolveIdentity(root: string, env: NodeJS.ProcessEnv, project?: string, role?: string): CheckedIdentity {
  const p = project ?? env.BRIDGE_PROJECT;
  const r = role ?? env.BRIDGE_ROLE;
  if (!p || !r) {
    const missing = [!p && "BRIDGE_PROJECT (or --project)", !r && "BRIDGE_ROLE (or --role)"].filter(Boolean).join(" and ");
    throw new BridgeError("E_NO_IDENTITY", `no bridge identity: set ${missing}; to connect a session, ${CONNECT_HINT}`);
  }
  return checkIdentity({ root, project: validateName("project", p), role: validateName("role", r) });
}

export function resolveProject(env: NodeJS.ProcessEnv, project?: string): string {
  const p = project ?? env.BRIDGE_PROJECT;
  if (!p) throw new BridgeError("E_NO_IDENTITY", "no project: set BRIDGE_PROJECT or pass --project");
  return validateName("project", p);
}

/** The role's files, once its folders are known to be real folders (no links) in a root of ours. */
export function pathsOf(identity: Identity): RolePaths {
  return checkIdentity(identity).paths;
}

/** Makes the role's folders unless the check already found them all (joining the role). */
function joinRole(identity: CheckedIdentity): void {
  if (!identity.joined) ensureRoleDir(identity.paths);
}

export function listProjects(root: string): string[] {
  assertReadable(root);
  return listNameFolders(projectsDir(root));
}

/** Roles that have joined the project (each has its own folder). */
export function listRoles(root: string, project: string): string[] {
  assertReadable(root, project);
  return listNameFolders(projectDir(root, project));
}

export interface SendLimits {
  maxBodyBytes: number;
  fsync: boolean;
}

export interface SendRequest {
  identity: Identity;
  to: string;
  body: unknown;
  replyTo?: string;
  /** Queue for a role that has not joined yet instead of failing with E_UNKNOWN_ROLE. */
  queue?: boolean;
  stamp: Stamp;
  /** The size limit and durability to send with (the settings' maxBodyBytes and fsync). */
  limits: SendLimits;
}

/** A recipient the message was queued for (every one listed was: a failed append throws). */
export interface Delivery {
  role: string;
  /** Live Claude Code sessions holding the role right now (empty: it waits for the next one). */
  live: SessionView[];
}

export interface SendResult {
  message: Message;
  deliveries: Delivery[];
}

export function checkBody(body: unknown, maxBodyBytes: number): string {
  if (typeof body !== "string") throw new BridgeError("E_BAD_BODY", `message body must be text (got ${typeof body})`);
  if (body.trim() === "") throw new BridgeError("E_BAD_BODY", "message body is empty; say something");
  const bytes = Buffer.byteLength(body, "utf8");
  if (bytes > maxBodyBytes) {
    throw new BridgeError(
      "E_TOO_LARGE",
      `message body is ${bytes} bytes, over the limit of ${maxBodyBytes} bytes; send a file path instead, or raise maxBodyBytes (session-bridge spawner config maxBodyBytes=N)`,
    );
  }
  return body;
}

export function sendMessage(request: SendRequest): SendResult {
  const { to } = request;
  const identity = checkIdentity(request.identity);
  const body = checkBody(request.body, request.limits.maxBodyBytes);
  if (request.replyTo !== undefined && !ID_PATTERN.test(request.replyTo)) {
    throw new BridgeError(
      "E_USAGE",
      `replyTo ${JSON.stringify(request.replyTo)} is not a message id (ids look like m…, as printed by send)`,
    );
  }
  const recipients = resolveRecipients(identity, to, request.queue === true);
  joinRole(identity);
  const message: Message = {
    id: newId(),
    ts: isoTime(),
    project: identity.project,
    from: identity.role,
    to,
    body,
    chain: request.stamp.chain,
    hop: request.stamp.hop,
    ...(request.replyTo !== undefined && { replyTo: request.replyTo }),
  };
  // Every line the bus writes must be one its readers take in (src/bus/lines.ts).
  const lineBytes = Buffer.byteLength(serializeMessage(message), "utf8");
  if (lineBytes > LINE_MAX_BYTES) {
    throw new BridgeError(
      "E_TOO_LARGE",
      `message body is ${Buffer.byteLength(body, "utf8")} bytes, but the message takes ${lineBytes} bytes as a stored line, over the ${LINE_MAX_BYTES} bytes a line may hold (JSON writes each control character as 6 bytes); nothing was sent: send a file path instead`,
    );
  }
  const deliveries: Delivery[] = [];
  for (const { role, exists } of recipients) {
    const paths = rolePaths(identity.root, identity.project, role);
    try {
      // The sender's check proved the root and the project; a recipient folder seen as a real folder needs nothing more.
      if (!identity.joined || !exists) ensureRoleDir(paths);
      appendMessage(paths, message, { fsync: request.limits.fsync });
    } catch (err) {
      const done = deliveries.map((d) => d.role).join(", ") || "nobody";
      throw new BridgeError(
        err instanceof BridgeError ? err.code : "E_IO",
        `message ${message.id} could not be queued for "${role}" (${describeError(err)}); already queued for: ${done}`,
      );
    }
    deliveries.push({ role, live: listSessions(paths).filter((s) => s.live) });
  }
  return { message, deliveries };
}

/** The roles a send reaches, each with whether its folder was seen as a real folder just now. */
function resolveRecipients(identity: Identity, to: string, queue: boolean): { role: string; exists: boolean }[] {
  // Listed only for a broadcast or an error message: a send to a named role need not read the folder.
  const known = (): string[] => listRoles(identity.root, identity.project);
  // The other roles: yours is never a recipient, so never offered as one.
  const others = (): string[] => known().filter((r) => !sameNameIgnoringCase(r, identity.role));
  if (to === BROADCAST) {
    const everyone = others();
    if (everyone.length === 0) {
      throw new BridgeError(
        "E_NO_RECIPIENTS",
        `nobody else has joined project "${identity.project}" yet, so a broadcast would reach no one; send to a role by name with --queue to leave a message for it`,
      );
    }
    return everyone.map((role) => ({ role, exists: true }));
  }
  validateName("role", to);
  // Compared without case: "Web" is the same name as "web" (src/bus/names.ts), so it is yourself too.
  if (sameNameIgnoringCase(to, identity.role)) {
    const spelled = to === identity.role ? "" : ` "${identity.role}" (names that differ only in case are one name)`;
    throw new BridgeError(
      "E_SELF_SEND",
      `"${to}" is your own role${spelled}; send to another role of project "${identity.project}" (known: ${others().join(", ") || "none yet"})`,
    );
  }
  const exists = roleExists(rolePaths(identity.root, identity.project, to));
  if (!queue && !exists) {
    const list = others();
    const near = closest(to, list);
    throw new BridgeError(
      "E_UNKNOWN_ROLE",
      `unknown role "${to}" in project "${identity.project}" (known: ${list.join(", ") || "none yet"}${near ? `; did you mean "${near}"?` : ""}); use --queue (CLI) or queue: true (bridge_send) to queue for a role that has not joined yet`,
    );
  }
  return [{ role: to, exists }];
}

/** Consumes unread messages for the identity's role (joining it if it is new). */
export function receive(identity: Identity, options: ConsumeOptions): ConsumeResult {
  const checked = checkIdentity(identity);
  joinRole(checked);
  return consumeUnread(checked.paths, options);
}

export function peek(identity: Identity): { messages: Message[]; skipped: number } {
  const scan = peekUnread(pathsOf(identity));
  return { messages: scan.entries.map((e) => e.message), skipped: scan.skippedAt.length };
}

export function tail(identity: Identity, limit: number): { messages: StoredMessage[]; skipped: number; end: InboxPosition } {
  const all = readAllKept(pathsOf(identity));
  return { messages: limit > 0 ? all.messages.slice(-limit) : [], skipped: all.skipped, end: all.end };
}

export interface RoleSummary {
  role: string;
  unread: number;
  skipped: number;
  sessions: SessionView[];
  live: boolean;
}

export function roleSummaries(root: string, project: string): RoleSummary[] {
  return listRoles(root, project).map((role) => {
    const paths = rolePaths(root, project, role);
    const scan = peekUnread(paths);
    const sessions = listSessions(paths);
    return { role, unread: scan.entries.length, skipped: scan.skippedAt.length, sessions, live: sessions.some((s) => s.live) };
  });
}

export interface RecipientStatus {
  role: string;
  state: "queued" | "read";
  at?: string;
  by?: string;
}

export interface MessageStatus {
  id: string;
  project: string;
  from: string;
  to: string;
  ts: string;
  chain: string;
  hop: number;
  recipients: RecipientStatus[];
  skipped: number;
}

/** Where message `id` is: queued or read (when, by whom) in each recipient's inbox. */
export function messageStatus(root: string, project: string, id: string): MessageStatus {
  if (!ID_PATTERN.test(id))
    throw new BridgeError("E_USAGE", `${JSON.stringify(id)} is not a message id (ids look like m…, as printed by send)`);
  let found: Message | undefined;
  let skipped = 0;
  const recipients: RecipientStatus[] = [];
  for (const role of listRoles(root, project)) {
    const paths = rolePaths(root, project, role);
    const kept = readAllKept(paths);
    skipped += kept.skipped;
    const hit = kept.messages.find((m) => m.message.id === id);
    if (!hit) continue;
    found ??= hit.message;
    const status: RecipientStatus = { role, state: hit.read ? "read" : "queued" };
    if (hit.read) {
      const receipt = findReceipt(paths, id);
      if (receipt) Object.assign(status, { at: receipt.at, by: receipt.by });
    }
    recipients.push(status);
  }
  if (!found) {
    throw new BridgeError(
      "E_NOT_FOUND",
      `no message with id "${id}" in project "${project}" (it may be from another project: pass --project, or older than the kept history)`,
    );
  }
  return { id, project, from: found.from, to: found.to, ts: found.ts, chain: found.chain, hop: found.hop, recipients, skipped };
}
