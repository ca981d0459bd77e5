// Loop-guard bookkeeping (docs/architecture.md "Loop guard"): every message carries the chain it belongs to and
// its hop. A prompt typed by a human starts a new chain at hop 0; a turn woken by the bridge
// continues the chain of the messages that woke it, one hop further. The rails refuse a wake
// once a message's hop reaches maxHops, however slow or fast each turn is.
import { isRecord, parseJson, readFileIfExists, writeFileAtomic } from "../lib/fs.ts";
import { ensureRoleDir } from "../bus/layout.ts";
import type { RolePaths } from "../bus/layout.ts";
import { ID_PATTERN, newId } from "../bus/message.ts";
import type { Message, Stamp } from "../bus/message.ts";
import { DEFAULT_NUDGE } from "../settings/schema.ts";
import type { Settings } from "../settings/schema.ts";
import { isoTime } from "../lib/time.ts";
import { isErrno } from "../lib/errors.ts";

export interface ChainContext {
  chain: string;
  /** The hop the role's next messages carry. */
  hop: number;
  at: string;
  source: "human" | "wake";
}

export function readChainContext(paths: RolePaths): ChainContext | undefined {
  const value = parseJson(readFileIfExists(paths.chain) ?? "");
  if (isRecord(value) && typeof value.chain === "string" && typeof value.hop === "number") return value as unknown as ChainContext;
  return undefined;
}

/**
 * Written on every prompt a human types. Its callers hold paths of a checked identity (src/bus.ts
 * pathsOf refuses a link in the root, projects, project or role folder), so the role's folders are
 * made only when the write finds them missing (a session's first prompt in a new role), rather than
 * walked again first: ~10 lstat calls less per prompt.
 */
function writeContext(paths: RolePaths, context: ChainContext): ChainContext {
  const text = JSON.stringify(context) + "\n";
  try {
    writeFileAtomic(paths.chain, text);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
    ensureRoleDir(paths);
    writeFileAtomic(paths.chain, text);
  }
  return context;
}

export function startHumanChain(paths: RolePaths): ChainContext {
  return writeContext(paths, { chain: newId("c"), hop: 0, at: isoTime(), source: "human" });
}

/**
 * The message a woken turn continues: its waker (the highest hop still under maxHops, as the rails
 * chose it), or — when every message already hit the loop guard — the highest of them, so that a
 * stopped chain stays stopped. A stale refused message read along with fresh mail must not drag
 * the fresh exchange onto its dead chain.
 */
export function wakingMessage(messages: readonly Message[], maxHops: number): Message | undefined {
  return wakerOf(messages, maxHops) ?? highestHop(messages);
}

/** The woken turn continues the chain of the message that woke it, one hop further. */
export function continueChain(paths: RolePaths, messages: readonly Message[], maxHops: number): ChainContext | undefined {
  const waker = wakingMessage(messages, maxHops);
  return waker ? continueFrom(paths, waker) : undefined;
}

/** Continues a known waker's chain (the rails' decision names it). */
export function continueFrom(paths: RolePaths, waker: Stamp): ChainContext {
  return writeContext(paths, { chain: waker.chain, hop: waker.hop + 1, at: isoTime(), source: "wake" });
}

/**
 * The message a wake continues: the highest hop still under maxHops. A woken turn must continue
 * this same chain (continueChain), or a stale message that already hit the loop guard,
 * read along with fresh mail, would drag the fresh exchange onto the dead chain.
 */
export function wakerOf(batch: readonly Message[], maxHops: number): Message | undefined {
  let best: Message | undefined;
  for (const m of batch) if (m.hop < maxHops && (!best || m.hop > best.hop)) best = m;
  return best;
}

export function highestHop(messages: readonly Message[]): Message | undefined {
  let best: Message | undefined;
  for (const m of messages) if (!best || m.hop > best.hop) best = m;
  return best;
}

/**
 * The chain/hop for a message this process sends now:
 *  - a spawned run carries BRIDGE_CHAIN/BRIDGE_HOP from the daemon;
 *  - inside a Claude Code session (its MCP server, or its Bash tool: CLAUDECODE=1) the role's
 *    current context, kept by the prompt hook;
 *  - otherwise a human at a shell: a new chain.
 */
export function stampForSend(paths: RolePaths, env: NodeJS.ProcessEnv, inSession: boolean): Stamp {
  const spawned = chainFromEnv(env);
  if (spawned) return spawned;
  if (inSession) {
    const context = readChainContext(paths);
    if (context) return { chain: context.chain, hop: context.hop };
  }
  return { chain: newId("c"), hop: 0 };
}

/** The stamp a spawned run was given by the daemon (BRIDGE_CHAIN/BRIDGE_HOP), if valid. */
export function chainFromEnv(env: NodeJS.ProcessEnv): Stamp | undefined {
  const hop = Number(env.BRIDGE_HOP);
  if (env.BRIDGE_CHAIN && ID_PATTERN.test(env.BRIDGE_CHAIN) && Number.isInteger(hop) && hop >= 0) {
    return { chain: env.BRIDGE_CHAIN, hop };
  }
  return undefined;
}

/**
 * How the rewake's stderr begins. Claude Code shows that stderr to the model and also passes it,
 * inside a <task-notification>, as the woken turn's UserPromptSubmit `prompt` (docs/claude-code.md
 * "asyncRewake Stop hooks"): promptOrigin looks for this mark there to tell a bridge wake from a
 * prompt a human typed.
 */
export const DOORBELL_MARK = "[session-bridge] Not an error:";

/** The chain and hop a run woken for `waker` carries in its environment (read back by chainFromEnv). */
export function wokenRunEnv(waker: Stamp): { BRIDGE_CHAIN: string; BRIDGE_HOP: string } {
  return { BRIDGE_CHAIN: waker.chain, BRIDGE_HOP: String(waker.hop + 1) };
}

export type PromptOrigin = "human" | "nudge" | "rewake" | "automated";

/** How Claude Code 2.1.328 frames a message written to a session's messaging socket. */
export const PEER_MESSAGE = "Another Claude session sent a message";

/** The socket driver's line: the nudge, then its wake stamp (src/spawner/drivers/socket.ts nudgeLine). */
const WAKE_STAMP = / \(\d+ messages?, wake at \d{4}-\d\d-\d\dT[\d:.]+Z\)$/;

function isSocketNudge(text: string, settings: Pick<Settings, "nudgePrompt">): boolean {
  const stamp = WAKE_STAMP.exec(text);
  if (!stamp) return false;
  const bare = text.slice(0, stamp.index).trim();
  return bare === settings.nudgePrompt.trim() || bare === DEFAULT_NUDGE.trim();
}

/**
 * Who produced a UserPromptSubmit prompt, for the loop guard:
 *  - "nudge": the fixed text the daemon's tmux/spawn drivers type (settings.nudgePrompt), or the
 *    socket driver's stamped nudge, framed by Claude Code as a peer message;
 *  - "rewake": the turn `hook wait` woke. Claude Code runs UserPromptSubmit on it with the wake as
 *    the prompt: a <task-notification> holding our stderr, doorbell first (seen, 2.1.328);
 *  - "automated": any other task notification (a background task ending), or another peer
 *    message: nobody typed it;
 *  - "human": everything else.
 */
export function promptOrigin(prompt: string, settings: Pick<Settings, "nudgePrompt">): PromptOrigin {
  const p = prompt.trim();
  if (p === settings.nudgePrompt.trim() || p === DEFAULT_NUDGE.trim()) return "nudge";
  // The socket driver's nudge arrives framed as a peer message (docs/claude-code.md "The messaging
  // socket"); any other peer message is from another session, not typed by a human either.
  if (p.startsWith(PEER_MESSAGE)) {
    const first = p
      .slice(PEER_MESSAGE.length)
      .replace(/^[^\n]*\n/, "")
      .trim()
      .split("\n")[0]!
      .trim();
    return isSocketNudge(first, settings) ? "nudge" : "automated";
  }
  if (isSocketNudge(p, settings)) return "nudge";
  if (p.startsWith("<task-notification>")) return p.includes(DOORBELL_MARK) ? "rewake" : "automated";
  return "human";
}

/**
 * The loop guard's books after a UserPromptSubmit that consumed `consumed`: a prompt a human typed
 * starts a new chain; a turn the bridge woke continues the chain of the messages that woke it.
 */
export function trackPrompt(
  paths: RolePaths,
  env: NodeJS.ProcessEnv,
  prompt: unknown,
  settings: Pick<Settings, "nudgePrompt" | "maxHops">,
  consumed: readonly Message[],
): void {
  // A spawned run's chain comes from the daemon (BRIDGE_CHAIN/BRIDGE_HOP, honoured by every send
  // of the run); its prompt is the daemon's, never a human's, so it must not reset the chain.
  if (chainFromEnv(env)) return;
  // Without a prompt nobody can tell who typed it; leaving the chain alone keeps the guard strict.
  if (typeof prompt !== "string") return;
  const origin = promptOrigin(prompt, settings);
  if (origin === "human") {
    startHumanChain(paths);
    return;
  }
  // Nothing new read (another reader took the mail, or the rewake already delivered it and
  // continued its chain): the context stands.
  if (consumed.length === 0) return;
  if (origin !== "nudge") {
    // hook wait already continued the chain of what it delivered; what is read now must not
    // lower that hop (nor may mail read on any automated turn).
    const current = readChainContext(paths);
    const top = wakingMessage(consumed, settings.maxHops)!;
    if (current?.source === "wake" && current.hop >= top.hop + 1) return;
  }
  continueChain(paths, consumed, settings.maxHops);
}
