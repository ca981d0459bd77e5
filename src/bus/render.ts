// Rendering messages for people and scripts. Bodies are data from another session: on a
// terminal, control and bidi characters are shown escaped so a message cannot move the cursor,
// recolour, retitle or hide text in the reader's terminal; body lines are indented and header
// values kept on one line, so neither can pass itself off as another message's header.
import type { Message } from "./message.ts";
import type { SessionView } from "./sessions.ts";
import { describeWhere } from "./sessions.ts";

// C0 controls except tab and newline, DEL, C1 controls, and bidi embedding/override/isolate marks.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function neutralize(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

const UNSAFE_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A header value (sender, recipient, time, chain, who read it) on one line, unable to drive a
 * terminal. These come from inbox and receipt files that any process of the user can write, not
 * only from session-bridge, so they are escaped for pipes as well as terminals: a newline in a
 * "from" would otherwise start a forged header line.
 */
export function oneLine(text: string): string {
  return text.replace(UNSAFE_OR_BREAK, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON.stringify, with the characters it leaves raw that a terminal or a reader may act on (DEL,
 * C1 controls, line separators, bidi marks) written as \\u escapes: the same value once parsed.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export interface RenderOptions {
  /** Escape terminal control sequences (true when stdout is a terminal). */
  terminal: boolean;
  /** Marks each message read/unread (for tail). */
  read?: boolean;
}

export function renderMessage(m: Message, options: RenderOptions): string {
  const clean = options.terminal ? neutralize : (s: string) => s;
  const state = options.read === undefined ? "" : options.read ? " · read" : " · unread";
  const reply = m.replyTo ? ` · reply to ${oneLine(m.replyTo)}` : "";
  const header = `── ${oneLine(m.id)} from ${oneLine(m.from)} to ${oneLine(m.to)} · ${oneLine(m.ts)} · chain ${oneLine(m.chain)} hop ${m.hop}${reply}${state}`;
  const body = clean(m.body)
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
  return `${header}\n${body}\n`;
}

export function sessionJson(s: SessionView): Record<string, unknown> {
  return {
    live: s.live,
    pid: s.pid,
    where: describeWhere(s),
    ...(s.sessionId !== undefined && { sessionId: s.sessionId }),
    ...(s.tmux !== undefined && { tmux: s.tmux }),
    ...(s.attended !== undefined && { attended: s.attended }),
    ...(s.cwd !== undefined && { cwd: s.cwd }),
    startedAt: s.startedAt,
    lastSeen: s.lastSeen,
    ...(s.endedAt !== undefined && { endedAt: s.endedAt }),
  };
}
