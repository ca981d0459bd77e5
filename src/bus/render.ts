// Rendering messages for people and scripts. Bodies are data from another session: on a
// terminal, control and bidi characters are shown escaped so a message cannot move the cursor,
// recolour, retitle or hide text in the reader's terminal; body lines are indented and header
// values kept on one line, so neither can pass itself off as another message's header.
import type { Message } from "./message.ts";
import type { SessionView } from "./sessions.ts";
import { describeWhere } from "./sessions.ts";
import { neutralize, oneLine } from "../lib/text.ts";

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
    ...(s.agent !== undefined && { agent: s.agent }),
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
