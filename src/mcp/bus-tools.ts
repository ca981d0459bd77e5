// The bus tools of the MCP server: send, recv, peek, tail, wait, status, roles, whoami. Each is a
// plain JSON-schema definition plus a handler over the same bus functions as the CLI and hooks.
// Names carry the `bridge_` prefix and every description says it reaches the bridge project, so
// the model never confuses them with Claude Code's built-in SendMessage (the server's instructions
// say so once). Every definition is in the model's context on every turn of every session, or
// behind Claude Code's tool search, which matches the description's first words: each says what
// the tool does in plain words, then when to use it, and nothing else (bench: ≤ 6,000 bytes).
import type { ToolName } from "../agents/tool-names.ts";
import { pathsOf, receive } from "../bus.ts";
import type { Identity } from "../bus.ts";
import { readChainContext, stampForSend } from "../wake/chain.ts";
import { forecastWake } from "../wake/forecast.ts";
import { rolePaths } from "../bus/layout.ts";
import { loadSettingsLenient } from "../settings/file.ts";
import type { ConsumeResult } from "../bus/inbox.ts";
import { mcpConsumer, needIdentity, needProject, ADMIN_EXAMPLE } from "./context.ts";
import type { McpContext } from "./context.ts";
import { acceptWithin, dataFraming, describeSession, fail, ok, plural, renderBounded, renderForModel, MAX_OUTPUT_CHARS } from "./format.ts";
import type { TextResult } from "./format.ts";
import { waitForMail } from "./wait.ts";
import { oneLine } from "../lib/text.ts";
import { listSessions } from "../bus/sessions.ts";
import { effectiveRole } from "../settings/schema.ts";
import { int, objectSchema, str } from "./tool-args.ts";
import { openStore } from "../store/store.ts";
import type { Store } from "../store/store.ts";
import { storeUrlOf } from "../store/url.ts";
import type { ObjectSchema } from "./tool-args.ts";

export interface ToolCall {
  ctx: McpContext;
  args: Record<string, unknown>;
  /** Aborted when the client cancels the call or the server shuts down. */
  signal: AbortSignal;
}

export interface ToolDef {
  name: ToolName;
  description: string;
  inputSchema: ObjectSchema;
  readOnly?: boolean;
  run(call: ToolCall): TextResult | Promise<TextResult>;
}

const PROJECT = str("bridge project (default: yours)", { minLength: 1, maxLength: 64 });
const RECV_LIMIT = 50;
const WAIT_DEFAULT_S = 60;
const WAIT_MAX_S = 600;

/** The store BRIDGE_URL names (the file store when unset), for one tool call. */
async function withStore<T>(ctx: McpContext, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(ctx.root, ctx.env);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const REDIS_WAIT_POLL_MS = 250;

function settingsOf(ctx: McpContext) {
  return loadSettingsLenient(ctx.root);
}

function consumed(identity: Identity, result: ConsumeResult, empty: string): string {
  if (result.messages.length === 0) return empty;
  let text = `${dataFraming(result.messages.length, "message", identity.project)} They are now marked read.\n\n`;
  text += result.messages.map((m) => renderForModel(m)).join("");
  if (result.remaining > 0)
    text += `\n${plural(result.remaining, "more unread message")} left for the next bridge_recv (answers are bounded to ${RECV_LIMIT} messages / ${MAX_OUTPUT_CHARS} characters).`;
  if (result.skipped > 0) text += `\n(${plural(result.skipped, "unreadable inbox line")} skipped: torn by a crash, or not a message.)`;
  return text;
}

const send: ToolDef = {
  name: "bridge_send",
  description:
    'Send a message to another Claude Code session of this bridge project, by its role name ("*": every other role). ' +
    "Kept until read; the answer says whether that role has a live session. When answering a message, pass its id as replyTo.",
  inputSchema: objectSchema(
    {
      to: str('role name, or "*"', { minLength: 1, maxLength: 64 }),
      body: str("message text"),
      replyTo: str("id of the message you answer", { maxLength: 64 }),
      queue: { type: "boolean", description: "allow a role that has not joined yet (default: error listing the roles)" },
    },
    ["to", "body"],
  ),
  async run({ ctx, args }) {
    const identity = needIdentity(ctx);
    const { settings, error } = settingsOf(ctx);
    const redis = storeUrlOf(ctx.env) !== undefined;
    const result = await withStore(ctx, (store) =>
      store.send({
        identity,
        to: args.to as string,
        body: args.body,
        queue: args.queue === true,
        ...(typeof args.replyTo === "string" && { replyTo: args.replyTo }),
        stamp: stampForSend(pathsOf(identity), ctx.env, true),
        limits: settings,
      }),
    );
    const { message } = result;
    const lines = [
      `sent ${message.id} to ${message.to === "*" ? "every other role" : message.to} (chain ${message.chain} hop ${message.hop})`,
    ];
    for (const d of result.deliveries) {
      const where = d.live.length > 0 ? `live session: ${d.live.map(describeSession).join("; ")}` : "no live session holds this role now";
      // The wake rails read this machine's files; on a shared Redis the role may be woken elsewhere.
      const wake = redis
        ? { text: "wake: not forecast on the Redis store" }
        : forecastWake({
            root: identity.root,
            paths: rolePaths(identity.root, identity.project, d.role),
            settings,
            ...(error && { settingsError: error.message }),
            message,
          });
      lines.push(`  ${d.role}: queued; ${where}; ${wake.text}`);
    }
    lines.push(`bridge_status("${message.id}") tells when it is read.`);
    if (error) lines.push(`warning: ${error.message} (sent with the default limits)`);
    return ok(lines.join("\n"));
  },
};

const recv: ToolDef = {
  name: "bridge_recv",
  description: `Read your unread messages from the other roles of this bridge project, marking them read (each is delivered once: here, or added to a prompt). At most ${RECV_LIMIT} per call.`,
  inputSchema: objectSchema({ limit: int(`most messages (default ${RECV_LIMIT})`, 1, 200) }),
  async run({ ctx, args }) {
    const identity = needIdentity(ctx);
    const { settings } = settingsOf(ctx);
    const result = await withStore(ctx, (store) =>
      store.receive(identity, {
        by: mcpConsumer(ctx, "bridge_recv"),
        accept: acceptWithin((args.limit as number | undefined) ?? RECV_LIMIT),
        compactBytes: settings.compactBytes,
        historyFiles: settings.historyFiles,
      }),
    );
    return ok(consumed(identity, result, `no unread messages for role "${identity.role}" of bridge project "${identity.project}"`));
  },
};

const peekTool: ToolDef = {
  name: "bridge_peek",
  description: "Show your unread messages from this bridge project without marking them read.",
  inputSchema: objectSchema({ limit: int("most messages (default 20)", 1, 200) }),
  readOnly: true,
  async run({ ctx, args }) {
    const identity = needIdentity(ctx);
    const result = await withStore(ctx, (store) => store.peek(identity));
    const total = result.messages.length;
    if (total === 0) return ok(`no unread messages for role "${identity.role}" of bridge project "${identity.project}"`);
    const limit = (args.limit as number | undefined) ?? 20;
    const { text, shown } = renderBounded(result.messages.slice(0, limit).map((message) => ({ message })));
    let out = `${dataFraming(total, "unread message", identity.project)} Not marked read (bridge_recv takes them).\n\n${text}`;
    if (shown < total) out += `\n(${plural(total - shown, "more unread message")} not shown.)`;
    return ok(out);
  },
};

const tailTool: ToolDef = {
  name: "bridge_tail",
  description: "Show the latest messages delivered to you in this bridge project, read or not, oldest first.",
  inputSchema: objectSchema({ limit: int("how many (default 20)", 1, 200) }),
  readOnly: true,
  async run({ ctx, args }) {
    const identity = needIdentity(ctx);
    const limit = (args.limit as number | undefined) ?? 20;
    const result = await withStore(ctx, (store) => store.tail(identity, limit));
    if (result.messages.length === 0)
      return ok(`no messages delivered to role "${identity.role}" of bridge project "${identity.project}" are kept`);
    // When over the bound, keep the newest: walk back from the end.
    const blocks: string[] = [];
    let size = 0;
    for (let i = result.messages.length - 1; i >= 0; i--) {
      const s = result.messages[i]!;
      const block = renderForModel(s.message, s.read);
      if (blocks.length > 0 && size + block.length > MAX_OUTPUT_CHARS) break;
      blocks.unshift(block);
      size += block.length;
    }
    let out = `${dataFraming(blocks.length, "recent message", identity.project)}\n\n${blocks.join("")}`;
    if (blocks.length < result.messages.length)
      out += `\n(${plural(result.messages.length - blocks.length, "older message")} not shown: over ${MAX_OUTPUT_CHARS} characters.)`;
    if (result.skipped > 0) out += `\n(${plural(result.skipped, "unreadable line")} skipped.)`;
    return ok(out);
  },
};

const waitTool: ToolDef = {
  name: "bridge_wait",
  description:
    "Wait for a message from another role of this bridge project, then read it like bridge_recv. Use it to wait for a reply within a turn; " +
    "it returns at once if mail is waiting, and reads nothing on timeout.",
  inputSchema: objectSchema({ timeoutSeconds: int(`default ${WAIT_DEFAULT_S}, max ${WAIT_MAX_S}`, 1, WAIT_MAX_S) }),
  async run({ ctx, args, signal }) {
    const identity = needIdentity(ctx);
    const seconds = (args.timeoutSeconds as number | undefined) ?? WAIT_DEFAULT_S;
    if (storeUrlOf(ctx.env) !== undefined) return waitOnStore(ctx, identity, seconds, signal);
    const outcome = await waitForMail(pathsOf(identity), {
      timeoutMs: seconds * 1000,
      signal,
      consume: () => {
        const { settings } = settingsOf(ctx);
        return receive(identity, {
          by: mcpConsumer(ctx, "bridge_wait"),
          accept: acceptWithin(RECV_LIMIT),
          compactBytes: settings.compactBytes,
          historyFiles: settings.historyFiles,
        });
      },
    });
    if (outcome.kind === "timeout") {
      return ok(
        `no message arrived for role "${identity.role}" within ${seconds} s; nothing was consumed. Call bridge_wait again to keep waiting, or carry on.`,
      );
    }
    if (outcome.kind === "aborted") return fail("bridge_wait was cancelled; nothing was consumed");
    return ok(consumed(identity, outcome.result, ""));
  },
};

/** bridge_wait on Redis: polls the store (a subscription is the daemon's; a tool call is short-lived). */
async function waitOnStore(ctx: McpContext, identity: Identity, seconds: number, signal: AbortSignal): Promise<TextResult> {
  const { settings } = settingsOf(ctx);
  const deadline = Date.now() + seconds * 1000;
  return withStore(ctx, async (store) => {
    for (;;) {
      if (signal.aborted) return fail("bridge_wait was cancelled; nothing was consumed");
      const result = await store.receive(identity, {
        by: mcpConsumer(ctx, "bridge_wait"),
        accept: acceptWithin(RECV_LIMIT),
        compactBytes: settings.compactBytes,
        historyFiles: settings.historyFiles,
      });
      if (result.messages.length > 0 || result.remaining > 0) return ok(consumed(identity, result, ""));
      if (Date.now() >= deadline)
        return ok(
          `no message arrived for role "${identity.role}" within ${seconds} s; nothing was consumed. Call bridge_wait again to keep waiting, or carry on.`,
        );
      await new Promise((r) => setTimeout(r, REDIS_WAIT_POLL_MS));
    }
  });
}

const status: ToolDef = {
  name: "bridge_status",
  description: "Tell whether a message sent in this bridge project was read, per recipient role (when, and by which reader).",
  inputSchema: objectSchema({ id: str("message id (from bridge_send)", { minLength: 1, maxLength: 64 }), project: PROJECT }, ["id"]),
  readOnly: true,
  async run({ ctx, args }) {
    const project = needProject(ctx, args.project);
    const s = await withStore(ctx, (store) => store.status(project, args.id as string));
    // Header values come from files any process of the user can write: one line each.
    const lines = [`${s.id} from ${oneLine(s.from)} to ${oneLine(s.to)} at ${oneLine(s.ts)} (chain ${oneLine(s.chain)} hop ${s.hop})`];
    for (const r of s.recipients) {
      if (r.state === "queued") lines.push(`  ${r.role}: queued, not read yet`);
      else lines.push(`  ${r.role}: read${r.at ? ` at ${oneLine(r.at)} by ${oneLine(String(r.by))}` : " (the receipt is no longer kept)"}`);
    }
    if (s.skipped > 0) lines.push(`(${plural(s.skipped, "unreadable inbox line")} skipped while searching)`);
    return ok(lines.join("\n"));
  },
};

const roles: ToolDef = {
  name: "bridge_roles",
  description:
    "List the roles of this bridge project (the Claude Code sessions you can message): which are live, where, when last seen, and unread counts.",
  inputSchema: objectSchema({ project: PROJECT }),
  readOnly: true,
  async run({ ctx, args }) {
    const project = needProject(ctx, args.project);
    const summaries = await withStore(ctx, (store) => store.roles(project));
    if (summaries.length === 0) return ok(`no roles have joined bridge project "${project}" yet`);
    const me = ctx.identity?.role;
    const lines = [`roles of bridge project "${project}"${me ? ` (you are "${me}")` : ""}:`];
    for (const r of summaries) {
      const live = r.sessions.filter((s) => s.live);
      const last = r.sessions[0];
      const state =
        live.length > 0
          ? `live: ${live.map(describeSession).join("; ")}`
          : `not live${last ? ` (last session: ${describeSession(last)})` : " (no session has connected yet)"}`;
      const extra = live.length > 1 ? ` — ${live.length} live sessions claim this role; each message goes to whichever reads first` : "";
      lines.push(
        `- ${r.role}${r.role === me ? " (you)" : ""}: ${state}; ${r.unread} unread${extra}${r.skipped ? `; ${plural(r.skipped, "bad line")}` : ""}`,
      );
    }
    return ok(lines.join("\n"));
  },
};

const whoami: ToolDef = {
  name: "bridge_whoami",
  description:
    "Show who you are in this bridge project: role, admin or not, other live sessions of your role, and your role's wake-up settings.",
  inputSchema: objectSchema({}),
  readOnly: true,
  run({ ctx }) {
    const admin = ctx.admin
      ? "yes (may change the bridge settings)"
      : `no (settings tools are refused; an admin session is started with \`${ADMIN_EXAMPLE}\`)`;
    if (!ctx.identity) return ok(`${ctx.unbridged}\nadmin: ${admin}`);
    const identity = ctx.identity;
    const { settings, error } = settingsOf(ctx);
    const wake = effectiveRole(settings, identity.project, identity.role);
    const lines = [
      `you are role "${identity.role}" of bridge project "${identity.project}" (bridge root ${identity.root})`,
      `admin: ${admin}`,
    ];
    const sessions = listSessions(pathsOf(identity)).filter((s) => s.live);
    const mine = ctx.session ? sessions.find((s) => s.pid === ctx.session!.pid) : undefined;
    lines.push(
      `this session: ${mine ? describeSession(mine) : ctx.session ? `claude pid ${ctx.session.pid} (record not live)` : "not registered"}`,
    );
    const others = sessions.filter((s) => s !== mine);
    if (others.length > 0) {
      lines.push(
        `warning: ${plural(others.length, "other live session")} also claim${others.length === 1 ? "s" : ""} role "${identity.role}": ${others.map(describeSession).join("; ")}. ` +
          "Each message goes to whichever session reads first; tell the user, so one of them can be restarted with another BRIDGE_ROLE.",
      );
    }
    const details = [
      `driver ${wake.driver}`,
      `permissionMode ${wake.permissionMode}`,
      ...(["cwd", "model", "tmuxTarget"] as const).filter((k) => wake[k] !== undefined).map((k) => `${k} ${wake[k]}`),
    ];
    lines.push(`wake-ups for this role: ${wake.auto ? "automatic" : "off (manual)"} — ${wake.why}; ${details.join(", ")}`);
    const chain = readChainContext(pathsOf(identity));
    if (chain) lines.push(`loop guard: your sends carry chain ${chain.chain} hop ${chain.hop} (maxHops ${settings.maxHops})`);
    if (error) lines.push(`warning: ${error.message}`);
    return ok(lines.join("\n"));
  },
};

export const BUS_TOOLS: readonly ToolDef[] = [send, recv, peekTool, tailTool, waitTool, status, roles, whoami];
