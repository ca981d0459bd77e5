// `hook recv` (UserPromptSubmit, SessionStart): hands this role's unread messages to the model as
// additionalContext, consuming them through the same exactly-once cursor as every other reader;
// keeps the session record fresh; and keeps the loop guard's books: a prompt a human typed starts
// a new chain; a turn the bridge woke (the daemon's nudge, the rewake's notification) continues
// the chain of the messages that woke it and never resets it.
import { lstatSync } from "node:fs";
import { pathsOf, receive, resolveIdentity } from "../bus.ts";
import type { Identity } from "../bus.ts";
import { trackPrompt } from "../wake/chain.ts";
import { loadSettingsLenient } from "../settings/file.ts";
import { describeError } from "../lib/errors.ts";
import { chooseBoundary, MessageFrame } from "./frame.ts";
import { quietly, readHookInput } from "./io.ts";
import type { HookInput, HookResult } from "./io.ts";
import { cursorOffsetFor, readCursor } from "../bus/inbox.ts";
import type { ConsumeResult } from "../bus/inbox.ts";
import { resolveRoot } from "../bus/layout.ts";
import { describeHalfIdentity, identityFromEnv } from "../bus/identity-env.ts";
import type { EnvIdentity } from "../bus/identity-env.ts";
import type { RolePaths } from "../bus/layout.ts";
import { registerSession, sessionFromEnv, touchSession } from "../bus/sessions.ts";
import type { Settings } from "../settings/schema.ts";
import { agentFlag } from "../agents/agent.ts";
import type { AgentName } from "../agents/agent.ts";
import { agentOf, contextAs } from "./shape.ts";
import type { ReceiveOptions, Store } from "../store/types.ts";
import { parseRedisUrl, storeUrlOf } from "../store/url.ts";
import type { Message } from "../bus/message.ts";
import type { SessionInfo } from "../bus/sessions.ts";
import { vendorSession } from "./vendor-session.ts";

// BeforeAgent is Gemini CLI's UserPromptSubmit (docs/other-agents.md).
const EVENTS = ["UserPromptSubmit", "SessionStart", "BeforeAgent"] as const;
/** lastSeen is for people ("seen 2 min ago"); liveness is judged from the pid. */
const TOUCH_FRESH_MS = 60_000;
const NOTHING: ConsumeResult = { messages: [], remaining: 0, skipped: 0 };
type RecvEvent = (typeof EVENTS)[number];

const NOTHING_TAKEN = "nothing was read from the inbox: the messages wait for the next prompt";

/**
 * The hook as src/hooks.ts (or the launcher's fast start) runs it once the session has an identity
 * variable: args are what follow `hook recv`. At Claude Code's SessionStart (CLAUDE_ENV_FILE) it
 * also puts the git shim first on the session's PATH.
 */
export function run(env: NodeJS.ProcessEnv, args: string[]): Promise<HookResult> {
  const flag = agentFlag(args);
  if (flag instanceof Error) return Promise.resolve({ code: 0, stderr: `session-bridge hook recv: ${flag.message}; nothing was read\n` });
  // Half an identity goes on too: the hook tells the session what is wrong (hookRecv below), and
  // the session gets the shim as it gets the guard's denies (it was meant to be bridged).
  // Whatever fails here fails before the consume commits: nothing is lost, only delayed.
  return quietly(
    "recv",
    async () => {
      const input = readHookInput();
      const note = env.CLAUDE_ENV_FILE ? (await import("./git-shim.ts")).installGitShim(env, input) : undefined;
      const result = await hookRecv(env, input, flag);
      return note ? { ...result, stderr: `${result.stderr ?? ""}session-bridge hook recv: ${note}\n` } : result;
    },
    NOTHING_TAKEN,
  );
}

/** Synchronous on the file store (as it always was); a promise when BRIDGE_URL names Redis. */
export function hookRecv(env: NodeJS.ProcessEnv, input: HookInput, flag?: AgentName): HookResult | Promise<HookResult> {
  const agent = agentOf(input, env, flag);
  const named = input.hook_event_name ?? "UserPromptSubmit";
  if (!EVENTS.includes(named as RecvEvent)) {
    // Claude Code would ignore additionalContext on another event, and the messages would be lost.
    return {
      code: 0,
      stderr: `session-bridge hook recv: runs on UserPromptSubmit or SessionStart, not ${JSON.stringify(named)}; nothing was read (fix the hook with \`session-bridge install\`)\n`,
    };
  }
  const event = named as RecvEvent;
  const envIdentity = identityFromEnv(env);
  if (envIdentity.kind === "half") return halfIdentityNotice(event, envIdentity);
  const identity = resolveIdentity(resolveRoot(env), env);
  const paths = pathsOf(identity);
  const notes: string[] = [];
  const { settings, error } = loadSettingsLenient(identity.root);
  if (error) notes.push(`warning: ${error.message} (using the defaults)`);
  const sessionId = typeof input.session_id === "string" && input.session_id !== "" ? input.session_id : undefined;

  const session = agent === "claude" ? sessionFromEnv(env, undefined, sessionId) : vendorSession(agent, env, input, sessionId);
  if (session) {
    try {
      // SessionStart (startup, resume, clear, compact) writes the whole record; a prompt only
      // refreshes lastSeen, at most once a minute, unless the record is missing.
      const refreshed = event !== "SessionStart" && touchSession(paths, session.pid, TOUCH_FRESH_MS);
      if (!refreshed) registerSession(paths, session);
    } catch (err) {
      // The record only tells senders where the role lives; delivery does not depend on it.
      notes.push(`could not refresh the session record: ${describeError(err)}`);
    }
  }

  const frame = new MessageFrame({ project: identity.project, role: identity.role });
  // Gemini's SessionStart context is not known to reach the model: its messages wait for BeforeAgent.
  const delivers = !(agent === "gemini" && event === "SessionStart");
  const finish = (result: ConsumeResult): HookResult => deliver(result, { env, input, event, agent, paths, frame, settings, notes });
  if (storeUrlOf(env) !== undefined)
    return takeFromStore(identity, env, notes, session, delivers, () => ({
      by: consumerName(event, sessionId, session?.pid, agent),
      accept: (m: Message) => frame.tryAdd(m),
      compactBytes: settings.compactBytes,
      historyFiles: settings.historyFiles,
    })).then(finish);
  return finish(delivers && mayHaveUnread(paths) ? take(identity, frame, event, sessionId, session?.pid, settings, agent) : NOTHING);
}

interface Delivery {
  env: NodeJS.ProcessEnv;
  input: HookInput;
  event: RecvEvent;
  agent: AgentName;
  paths: RolePaths;
  frame: MessageFrame;
  settings: Settings;
  notes: string[];
}

function deliver(result: ConsumeResult, { env, input, event, agent, paths, frame, settings, notes }: Delivery): HookResult {
  if (result.skipped > 0)
    notes.push(
      `skipped ${result.skipped} unreadable inbox line(s) (torn by a crash, or not a message); \`session-bridge tail\` shows the rest`,
    );
  if (result.compactError)
    notes.push(`the inbox could not be compacted (${result.compactError}); the messages are delivered, and a later read retries`);

  // From here on the messages are consumed: nothing may stop them from being printed.
  if (event === "UserPromptSubmit" || event === "BeforeAgent") {
    try {
      trackPrompt(paths, env, input.prompt, settings, result.messages);
    } catch (err) {
      notes.push(`could not update the loop-guard chain: ${describeError(err)}`);
    }
  }
  const stderr = notes.map((n) => `session-bridge hook recv: ${n}\n`).join("");
  if (frame.messages.length === 0 && result.remaining === 0) return { code: 0, stderr };
  const text = frame.render(result.remaining, chooseBoundary(frame.messages));
  return { ...contextAs(agent, event, text), stderr };
}

function take(
  identity: Identity,
  frame: MessageFrame,
  event: RecvEvent,
  sessionId: string | undefined,
  pid: number | undefined,
  settings: Settings,
  agent: AgentName,
): ConsumeResult {
  return receive(identity, {
    by: consumerName(event, sessionId, pid, agent),
    accept: (m) => frame.tryAdd(m),
    compactBytes: settings.compactBytes,
    historyFiles: settings.historyFiles,
  });
}

function consumerName(event: RecvEvent, sessionId: string | undefined, pid: number | undefined, agent: AgentName): string {
  return `hook recv (${event}${sessionId ? `, ${agent} session ${sessionId}` : ""}${pid ? `, ${agent} pid ${pid}` : ""})`;
}

/** How long a session touched by a prompt counts as live on Redis, where no pid can be checked from another machine. */
const REDIS_SESSION_TTL_MS = 5 * 60_000;

/**
 * The Redis store (BRIDGE_URL): the same exactly-once read, through the store. An engine that is
 * away or refuses us never blocks the prompt: the hook says so on stderr and the mail waits there.
 */
async function takeFromStore(
  identity: Identity,
  env: NodeJS.ProcessEnv,
  notes: string[],
  session: SessionInfo | undefined,
  delivers: boolean,
  options: () => ReceiveOptions,
): Promise<ConsumeResult> {
  let store: Store | undefined;
  try {
    // The Redis store's own bundle, not src/store/store.ts: this hook never needs the file store's
    // other operations (send, status, tail), and every byte of it is parsed on every prompt.
    const url = parseRedisUrl(storeUrlOf(env)!);
    store = (await import("../store/redis/index.ts")).openRedisStore(url, env);
    if (session) await store.touchSession(identity, session, REDIS_SESSION_TTL_MS);
    if (!delivers) return NOTHING;
    const result = await store.receive(identity, options());
    if (result.redelivered.length > 0)
      notes.push(`delivered again, as an earlier reader died before marking them read: ${result.redelivered.join(", ")}`);
    return result;
  } catch (err) {
    notes.push(`${describeError(err)}; the prompt goes on without bridge messages, which wait in the store`);
    return NOTHING;
  } finally {
    await store?.close();
  }
}

/**
 * False only when the cursor sits at the very end of the inbox file, as it does for most prompts:
 * then the role's lock is not taken at all. Anything else (new lines, a torn tail to seal, a
 * replaced file) goes through the locked, exactly-once receive.
 */
function mayHaveUnread(paths: RolePaths): boolean {
  const st = lstatSync(paths.inbox, { throwIfNoEntry: false });
  if (!st) return false;
  return cursorOffsetFor(readCursor(paths), st.ino, st.size) < st.size;
}

/**
 * A session meant to be bridged but not: the user sees it (systemMessage is shown in the
 * transcript) and so does the model (additionalContext), at the start and on every prompt.
 */
function halfIdentityNotice(event: RecvEvent, identity: Extract<EnvIdentity, { kind: "half" }>): HookResult {
  const what = `session-bridge: ${describeHalfIdentity(identity)}`;
  const output = {
    systemMessage: what,
    hookSpecificOutput: {
      hookEventName: event,
      additionalContext: `${what}. Until then no messages from sibling sessions reach this session and the bridge_* tools refuse; tell the user.`,
    },
  };
  return { code: 0, stdout: JSON.stringify(output) + "\n" };
}
