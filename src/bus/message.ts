// The message envelope, one JSON object per inbox line.
import { isRecord, parseJson, randomHex } from "../lib/fs.ts";

export interface Message {
  id: string;
  /** ISO-8601 time the sender wrote it. */
  ts: string;
  project: string;
  from: string;
  /** The recipient role, or "*" for a broadcast (each recipient's inbox holds its own copy). */
  to: string;
  body: string;
  /** Loop guard: the chain of automatic wakes this message belongs to, and its hop in it. */
  chain: string;
  hop: number;
  replyTo?: string;
}

/** A message's place in the loop guard's books (docs/architecture.md "Loop guard"). */
export interface Stamp {
  chain: string;
  hop: number;
}

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Time-ordered, unique ids: base-36 milliseconds, then 48 random bits. */
export function newId(prefix = "m"): string {
  return `${prefix}${Date.now().toString(36)}${randomHex(6)}`;
}

export function parseMessage(line: string): Message | undefined {
  const value = parseJson(line);
  if (!isRecord(value)) return undefined;
  const { id, ts, project, from, to, body, chain, hop, replyTo } = value;
  if (
    typeof id !== "string" ||
    typeof ts !== "string" ||
    typeof project !== "string" ||
    typeof from !== "string" ||
    typeof to !== "string" ||
    typeof body !== "string" ||
    typeof chain !== "string" ||
    typeof hop !== "number" ||
    (replyTo !== undefined && typeof replyTo !== "string")
  ) {
    return undefined;
  }
  return value as unknown as Message;
}

export function serializeMessage(message: Message): string {
  // JSON.stringify escapes newlines and lone surrogates, so one message is always one line.
  return JSON.stringify(message) + "\n";
}
