// What every store offers the faces (./store.ts picks one): the same operations and promises
// over the file store and over Redis (docs/architecture.md "The store").
import type { Identity, MessageStatus, RoleSummary, SendRequest, SendResult } from "../bus.ts";
import type { ConsumeResult, StoredMessage } from "../bus/inbox.ts";
import type { Message } from "../bus/message.ts";
import type { SessionInfo, SessionView } from "../bus/sessions.ts";

export interface ReceiveOptions {
  /** Who consumed, for `status` (e.g. "cli recv (pid 123)"). */
  by: string;
  /** Called in order; returning false stops (that message and later ones stay unread). */
  accept?: (message: Message, alreadyTaken: number) => boolean;
  /** The file store's compaction settings (the Redis store trims by its own rule). */
  compactBytes: number;
  historyFiles: number;
}

export interface Received extends ConsumeResult {
  /**
   * Ids handed to an earlier reader that died (or lost its lease) before committing: it may have
   * shown them. Only the Redis store can say so; the file store commits before showing.
   */
  redelivered: string[];
}

/** What `tail --follow` is told, in order (Store.follow). */
export interface FollowHandlers {
  /** The history (`read` known), then each message added after it (`read` undefined), in order, each once. */
  message(message: Message, read: boolean | undefined): void;
  /** Called once after the history: lines of it that are not messages. */
  skipped(count: number): void;
  /** A line for stderr: the store went away, or is back (Redis only). */
  notice(text: string): void;
  /** Stops following (SIGINT and SIGTERM stop it too). */
  signal?: AbortSignal;
}

/** A running Store.watch. */
export interface StoreWatch {
  close(): void;
}

/** Shows what a receive took: before the commit on Redis, after it on files (see each store). */
export type Deliver = (result: Received) => void | Promise<void>;

export interface Store {
  readonly kind: "file" | "redis";
  /** Where the messages live: the root folder, or the URL without its password. */
  readonly where: string;
  send(request: SendRequest): Promise<SendResult>;
  receive(identity: Identity, options: ReceiveOptions, deliver?: Deliver): Promise<Received>;
  peek(identity: Identity): Promise<{ messages: Message[]; skipped: number }>;
  tail(identity: Identity, limit: number): Promise<{ messages: StoredMessage[]; skipped: number }>;
  /**
   * `tail --follow`: the last `limit` messages, then each new one as it arrives, none missed or
   * repeated across the switch; resolves when stopped. Nothing is consumed.
   */
  follow(identity: Identity, limit: number, handlers: FollowHandlers): Promise<void>;
  /**
   * For a live view (the dashboard): calls `changed` soon after a message reaches a role of
   * `projects`, and at least every `pollMs` for what no message marks (reads, sessions).
   */
  watch(projects: string[], changed: () => void, pollMs: number): StoreWatch;
  roles(project: string): Promise<RoleSummary[]>;
  status(project: string, id: string): Promise<MessageStatus>;
  /** Registers or refreshes a session holding the role; it stays live for `ttlMs` (Redis) or while its pid lives (files). */
  touchSession(identity: Identity, info: SessionInfo, ttlMs: number): Promise<SessionView>;
  sessions(identity: Identity): Promise<SessionView[]>;
  close(): Promise<void>;
}

/** One line of `doctor` about the store (the shape of install/check.ts's Check). */
export interface StoreCheck {
  name: string;
  level: "ok" | "info" | "warn" | "fail";
  detail: string;
  fix?: string;
}
