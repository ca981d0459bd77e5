// The bus from a shell: send, recv, peek, tail, roles, whoami, status, root.
import { parseArgs, positionals } from "../lib/args.ts";
import type { FlagSpec, ParsedArgs } from "../lib/args.ts";
import { resolveIdentity, resolveProject, pathsOf } from "../bus.ts";
import type { Identity } from "../bus.ts";
import { stampForSend, readChainContext } from "../wake/chain.ts";
import { loadSettingsLenient } from "../settings/file.ts";
import { effectiveRole } from "../settings/schema.ts";
import { BridgeError, describeError, errorJson, exitCodeFor, exitQuietlyOnClosedStdout } from "../lib/errors.ts";
import { resolveRoot, rolePaths } from "../bus/layout.ts";
import { forecastWake } from "../wake/forecast.ts";
import { readUpTo } from "../lib/fs.ts";
import { renderMessage, sessionJson } from "../bus/render.ts";
import { jsonLine, neutralize, oneLine } from "../lib/text.ts";
import { describeWhere, sessionFromEnv } from "../bus/sessions.ts";
import { describeStore, openStore } from "../store/store.ts";
import type { Store } from "../store/store.ts";

/** Runs `fn` with the store BRIDGE_URL names (the file store when unset), closed afterwards. */
async function withStore<T>(root: string, env: NodeJS.ProcessEnv, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(root, env);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

interface Command {
  usage: string;
  flags: FlagSpec;
  /** The argument that may start with a dash, for the unknown-option error (send's BODY). */
  dashHint?: string;
  run(args: ParsedArgs, io: Io): Promise<number> | number;
}

interface Io {
  env: NodeJS.ProcessEnv;
  json: boolean;
  terminal: boolean;
  print(text: string): void;
  printJson(value: unknown): void;
  warn(text: string): void;
}

const IDENTITY: FlagSpec = { json: "boolean", project: "string", role: "string" };

function identity(args: ParsedArgs, io: Io): Identity {
  return resolveIdentity(resolveRoot(io.env), io.env, args.flags.project as string | undefined, args.flags.role as string | undefined);
}

function inSession(env: NodeJS.ProcessEnv): boolean {
  return env.CLAUDECODE === "1";
}

function cliConsumer(env: NodeJS.ProcessEnv): string {
  const session = env.CLAUDE_CODE_SESSION_ID ? `, claude session ${env.CLAUDE_CODE_SESSION_ID}` : "";
  return `cli recv (pid ${process.pid}${session})`;
}

/**
 * The body: the argument itself, or for "-" stdin, read only up to `maxBodyBytes` (one byte more
 * tells it is over): an endless pipe (`yes | send web -`) is refused at once, never buffered.
 */
function readBody(arg: string, maxBodyBytes: number): string {
  if (arg !== "-") return arg;
  const { bytes, over } = readUpTo(0, maxBodyBytes);
  if (over)
    throw new BridgeError(
      "E_TOO_LARGE",
      `the body on stdin is over the limit of ${maxBodyBytes} bytes (maxBodyBytes); stopped reading there and sent nothing. Send a file path instead, or raise maxBodyBytes (session-bridge spawner config maxBodyBytes=N)`,
    );
  try {
    // ignoreBOM: a leading U+FEFF is part of the text, kept byte-exact as it is on argv.
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new BridgeError(
      "E_BAD_BODY",
      `the body read from stdin (${bytes.length} bytes) is not valid UTF-8 text; send text, or a path to the file`,
    );
  }
}

const COMMANDS: Record<string, Command> = {
  send: {
    usage: `usage: session-bridge send TO BODY [--queue] [--reply-to ID] [--json] [--project P --role R]
  TO    a role of the project, or '*' for every other role
  BODY  the text (quote it); '-' reads it from stdin; put -- first if it starts with a dash`,
    flags: { ...IDENTITY, queue: "boolean", "reply-to": "string" },
    dashHint: "a BODY",
    async run(args, io) {
      const [to, bodyArg] = positionals(args, ["TO", "BODY"], COMMANDS.send!.usage) as [string, string];
      const id = identity(args, io);
      const { settings, error } = loadSettingsLenient(id.root);
      if (error) io.warn(`warning: ${error.message} (using the defaults to send)`);
      const body = readBody(bodyArg, settings.maxBodyBytes);
      const { result, kind } = await withStore(id.root, io.env, async (store) => ({
        kind: store.kind,
        result: await store.send({
          identity: id,
          to,
          body,
          queue: args.flags.queue === true,
          ...(typeof args.flags["reply-to"] === "string" && { replyTo: args.flags["reply-to"] }),
          stamp: stampForSend(pathsOf(id), io.env, inSession(io.env)),
          limits: settings,
        }),
      }));
      const { message } = result;
      // The wake rails read this machine's files; on a shared Redis the role may be woken elsewhere.
      const wakes = result.deliveries.map((d) =>
        kind === "redis"
          ? { text: "wake: not forecast on the Redis store (the daemon of the machine holding the role decides)" }
          : forecastWake({
              root: id.root,
              paths: rolePaths(id.root, id.project, d.role),
              settings,
              ...(error && { settingsError: error.message }),
              message,
            }),
      );
      if (io.json) {
        io.printJson({
          id: message.id,
          ts: message.ts,
          chain: message.chain,
          hop: message.hop,
          deliveries: result.deliveries.map((d, i) => ({ role: d.role, live: d.live.map(sessionJson), wake: wakes[i] })),
        });
        return 0;
      }
      io.print(`sent ${message.id} (chain ${message.chain} hop ${message.hop})\n`);
      result.deliveries.forEach((d, i) => {
        const where = d.live.length > 0 ? `live session in ${d.live.map(describeWhere).join("; ")}` : "no live session";
        io.print(`  ${d.role}: queued; ${where}; ${wakes[i]!.text}\n`);
      });
      return 0;
    },
  },
  recv: {
    usage: "usage: session-bridge recv [--json] [--project P --role R]\n  prints unread messages and marks them read",
    flags: IDENTITY,
    async run(args, io) {
      positionals(args, [], COMMANDS.recv!.usage);
      const id = identity(args, io);
      const { settings } = loadSettingsLenient(id.root);
      const options = { by: cliConsumer(io.env), compactBytes: settings.compactBytes, historyFiles: settings.historyFiles };
      let shown = 0;
      // Shown before the commit on Redis (a reader killed here gets them redelivered, marked), after it on files.
      const result = await withStore(id.root, io.env, (store) =>
        store.receive(id, options, (batch) => {
          shown += batch.messages.length;
          if (batch.skipped > 0) io.warn(`skipped ${batch.skipped} unreadable line(s) in the inbox (torn by a crash, or not a message)`);
          if (batch.compactError)
            io.warn(
              `warning: the inbox could not be compacted (${batch.compactError}); the messages below are delivered, and a later read retries`,
            );
          if (batch.redelivered.length > 0)
            io.warn(`note: ${batch.redelivered.join(", ")} delivered again: an earlier reader took them and died before marking them read`);
          // An empty batch prints nothing here: the one "no unread messages" answer comes below.
          if (batch.messages.length === 0) return;
          if (io.json)
            io.printJson({
              messages: batch.messages,
              skipped: batch.skipped,
              ...(batch.redelivered.length > 0 && { redelivered: batch.redelivered }),
            });
          else for (const m of batch.messages) io.print(renderMessage(m, { terminal: io.terminal }));
        }),
      );
      if (shown === 0 && result.messages.length === 0) {
        if (io.json) io.printJson({ messages: [], skipped: result.skipped });
        else io.warn("no unread messages");
      }
      return 0;
    },
  },
  peek: {
    usage: "usage: session-bridge peek [--json] [--project P --role R]\n  prints unread messages without marking them read",
    flags: IDENTITY,
    async run(args, io) {
      positionals(args, [], COMMANDS.peek!.usage);
      const id = identity(args, io);
      const result = await withStore(id.root, io.env, (store) => store.peek(id));
      if (io.json) io.printJson(result);
      else if (result.messages.length === 0) io.warn("no unread messages");
      else for (const m of result.messages) io.print(renderMessage(m, { terminal: io.terminal }));
      return 0;
    },
  },
  tail: {
    usage:
      "usage: session-bridge tail [N] [--follow] [--json] [--project P --role R]\n  the last N (default 20) messages delivered to this role, read or not; --follow keeps printing new ones",
    flags: { ...IDENTITY, follow: "boolean" },
    async run(args, io) {
      const [n] = positionals(args, ["[N]"], COMMANDS.tail!.usage);
      const limit = n === undefined ? 20 : Number(n);
      if (!Number.isInteger(limit) || limit < 0)
        throw new BridgeError("E_USAGE", `N must be a whole number (got ${JSON.stringify(n)})\n${COMMANDS.tail!.usage}`);
      const id = identity(args, io);
      if (args.flags.follow) {
        await withStore(id.root, io.env, (store) =>
          store.follow(id, limit, {
            message: (m, read) => printStored(io, m, read),
            skipped: (count) => count > 0 && io.warn(`skipped ${count} unreadable line(s) (torn by a crash, or not a message)`),
            notice: (text) => io.warn(`session-bridge tail: ${text}`),
          }),
        );
        return 0;
      }
      const result = await withStore(id.root, io.env, (store) => store.tail(id, limit));
      if (io.json) io.printJson({ messages: result.messages.map((s) => ({ ...s.message, read: s.read })), skipped: result.skipped });
      else for (const s of result.messages) printStored(io, s.message, s.read);
      if (result.skipped > 0) io.warn(`skipped ${result.skipped} unreadable line(s) (torn by a crash, or not a message)`);
      return 0;
    },
  },
  roles: {
    usage: "usage: session-bridge roles [--json] [--project P]\n  roles of the project, unread counts and live sessions",
    flags: { json: "boolean", project: "string" },
    async run(args, io) {
      positionals(args, [], COMMANDS.roles!.usage);
      const root = resolveRoot(io.env);
      const project = resolveProject(io.env, args.flags.project as string | undefined);
      const roles = await withStore(root, io.env, (store) => store.roles(project));
      if (io.json) {
        io.printJson({
          project,
          roles: roles.map((r) => ({
            role: r.role,
            unread: r.unread,
            skipped: r.skipped,
            live: r.live,
            sessions: r.sessions.map(sessionJson),
          })),
        });
        return 0;
      }
      if (roles.length === 0) io.warn(`no roles in project "${project}" yet`);
      for (const r of roles) {
        const live = r.sessions.filter((s) => s.live);
        const where = live.length > 0 ? live.map(describeWhere).join("; ") : "no live session";
        io.print(
          `${r.role}\t${r.unread} unread\t${r.live ? "live" : "not live"}: ${where}${r.skipped ? `\t${r.skipped} bad line(s)` : ""}\n`,
        );
      }
      return 0;
    },
  },
  whoami: {
    usage: "usage: session-bridge whoami [--json] [--project P --role R]",
    flags: IDENTITY,
    async run(args, io) {
      positionals(args, [], COMMANDS.whoami!.usage);
      const id = identity(args, io);
      const { settings, error } = loadSettingsLenient(id.root);
      const wake = effectiveRole(settings, id.project, id.role);
      const sessions = (await withStore(id.root, io.env, (store) => store.sessions(id))).filter((s) => s.live);
      const me = sessionFromEnv(io.env);
      const chain = readChainContext(pathsOf(id));
      const info = {
        project: id.project,
        role: id.role,
        root: id.root,
        admin: io.env.BRIDGE_ADMIN === "1",
        session: me ?? null,
        liveSessions: sessions.map(sessionJson),
        wake: { auto: wake.auto, mode: wake.mode, why: wake.why, driver: wake.driver },
        chain: chain ?? null,
        ...(error && { configError: error.message }),
      };
      if (io.json) {
        io.printJson(info);
        return 0;
      }
      io.print(`${id.role} in project ${id.project} (root ${id.root})${info.admin ? ", admin" : ""}\n`);
      io.print(`wake: ${wake.auto ? "automatic" : "manual"} via ${wake.driver} — ${wake.why}\n`);
      io.print(`live sessions holding this role: ${sessions.length === 0 ? "none" : sessions.map(describeWhere).join("; ")}\n`);
      if (sessions.length > 1)
        io.print(`note: ${sessions.length} live sessions claim role ${id.role}; each message is delivered to whichever reads first\n`);
      if (error) io.warn(`warning: ${error.message}`);
      return 0;
    },
  },
  status: {
    usage: "usage: session-bridge status ID [--json] [--project P]\n  queued or read (when, by whom) for each recipient of message ID",
    flags: { json: "boolean", project: "string" },
    async run(args, io) {
      const [messageId] = positionals(args, ["ID"], COMMANDS.status!.usage) as [string];
      const root = resolveRoot(io.env);
      const project = resolveProject(io.env, args.flags.project as string | undefined);
      const status = await withStore(root, io.env, (store) => store.status(project, messageId));
      if (io.json) {
        io.printJson(status);
        return 0;
      }
      io.print(
        `${status.id} from ${oneLine(status.from)} to ${oneLine(status.to)} at ${oneLine(status.ts)} (chain ${oneLine(status.chain)} hop ${status.hop})\n`,
      );
      for (const r of status.recipients) {
        io.print(
          `  ${r.role}: ${r.state}${r.state === "read" ? (r.at ? ` at ${oneLine(r.at)} by ${oneLine(String(r.by))}` : " (receipt no longer kept)") : ""}\n`,
        );
      }
      if (status.skipped > 0) io.warn(`note: ${status.skipped} unreadable line(s) skipped while searching`);
      return 0;
    },
  },
  root: {
    usage:
      "usage: session-bridge root [--json]\n  the bus folder: BRIDGE_ROOT, default ~/.claude/bridge; and the store when BRIDGE_URL names Redis (messages there, settings and wake state still here)",
    flags: { json: "boolean" },
    run(args, io) {
      positionals(args, [], COMMANDS.root!.usage);
      const root = resolveRoot(io.env);
      const store = describeStore(root, io.env);
      const redis = store.kind === "redis" ? { store } : {};
      if (io.json) io.printJson({ root, source: io.env.BRIDGE_ROOT ? "BRIDGE_ROOT" : "default", ...redis });
      else
        io.print(
          root + "\n" + (store.kind === "redis" ? `store: ${store.where} (BRIDGE_URL): messages, receipts and sessions live there\n` : ""),
        );
      return 0;
    },
  },
};

function printStored(io: Io, m: import("../bus/message.ts").Message, read: boolean | undefined): void {
  if (io.json) io.printJson(read === undefined ? m : { ...m, read });
  else io.print(renderMessage(m, { terminal: io.terminal, ...(read !== undefined && { read }) }));
}

export async function runCli(argv: string[]): Promise<number> {
  exitQuietlyOnClosedStdout();
  const [name, ...rest] = argv;
  const command = COMMANDS[name!]!;
  const json = rest.includes("--json");
  // Whatever reaches a terminal is made unable to drive it: message fields, session records and
  // error messages all quote text that other processes wrote.
  const terminal = process.stdout.isTTY === true;
  const errTerminal = process.stderr.isTTY === true;
  const toErr = (text: string): boolean => process.stderr.write(errTerminal ? neutralize(text) : text);
  const io: Io = {
    env: process.env,
    json,
    terminal,
    print: (text) => process.stdout.write(terminal ? neutralize(text) : text),
    printJson: (value) => process.stdout.write(jsonLine(value) + "\n"),
    warn: (text) => toErr(text + "\n"),
  };
  try {
    const args = parseArgs(rest, command.flags, command.usage, command.dashHint);
    if (args.flags.help) {
      process.stdout.write(command.usage + "\n");
      return 0;
    }
    return await command.run(args, io);
  } catch (err) {
    if (json) process.stderr.write(jsonLine(errorJson(err)) + "\n");
    else toErr(`session-bridge ${name}: ${describeError(err)}\n`);
    return exitCodeFor(err);
  }
}
