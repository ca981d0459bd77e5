// One role's inbox on disk: an append-only JSON-lines file, a byte-offset cursor, receipts and
// compaction. Every append, cursor move and compaction happens under the role's lock; readers
// that do not consume (peek, tail, status) take no lock and ignore a half-written last line.
//
// A consume writes its receipt first and then commits by renaming the cursor; see consumeUnread.
// Compaction and the history it leaves: src/bus/history.ts.
import { closeSync, constants, fstatSync, readSync } from "node:fs";
import { describeError, isErrno } from "../lib/errors.ts";
import { fsOps, isRecord, openForAppend, openNoFollow, parseJson, readFileIfExists, writeAll, writeFileAtomic } from "../lib/fs.ts";
import { eachLine } from "./lines.ts";
import { compact, inodeOf, listHistory } from "./history.ts";
import { withLock } from "./lock.ts";
import { parseMessage, serializeMessage } from "./message.ts";
import type { Message } from "./message.ts";
import type { RolePaths } from "./layout.ts";
import type { Cursor, Receipt } from "./inbox-records.ts";
import { isoTime } from "../lib/time.ts";

export type { Cursor, Receipt } from "./inbox-records.ts";

export interface Entry {
  message: Message;
  /** Byte range of the line in its file. */
  start: number;
  end: number;
}

export interface Scan {
  entries: Entry[];
  /** Start offsets of lines that were not a valid message (torn by a crash, or garbage). */
  skippedAt: number[];
  /** Offset just past the last complete line. */
  end: number;
  ino: number;
  size: number;
}

export interface StoreOptions {
  /** fdatasync each append (survives power loss, not only process crashes). */
  fsync?: boolean;
  /** Compact once the consumed prefix reaches this many bytes. */
  compactBytes?: number;
  /** How many compacted history files to keep per role. */
  historyFiles?: number;
}

const NEWLINE = 0x0a;
const NEWLINE_BUF = Buffer.from("\n");
const EMPTY_SCAN: Scan = { entries: [], skippedAt: [], end: 0, ino: -1, size: 0 };

export function readCursor(paths: RolePaths): Cursor {
  const value = parseJson(readFileIfExists(paths.cursor) ?? "");
  if (isRecord(value) && typeof value.ino === "number" && typeof value.offset === "number" && value.offset >= 0) {
    return value as unknown as Cursor;
  }
  // Missing (never consumed) or unreadable: the start of whatever inbox file is there.
  return { ino: -1, offset: 0 };
}

/** The cursor's offset within the inbox file `ino` (0 when the cursor names a replaced file). */
export function cursorOffsetFor(cursor: Cursor, ino: number, size: number): number {
  return cursor.ino === ino ? Math.min(cursor.offset, size) : 0;
}

/** Appends one message, first sealing a torn last line left by a writer killed mid-write. */
export function appendMessage(paths: RolePaths, message: Message, options: StoreOptions = {}): void {
  const line = Buffer.from(serializeMessage(message), "utf8");
  withLock(paths.lock, () => appendLine(paths.inbox, line, options.fsync === true));
}

/**
 * Appends one whole line to a JSON-lines file; the caller holds the role's lock. A torn last line
 * (a writer killed mid-write) is sealed first. A failed append (ENOSPC, EIO, a failed fdatasync)
 * cuts the file back to its old size, so the sender's error is the whole truth: no partial line
 * stays behind that a reader could later seal and take as a message.
 */
function appendLine(path: string, line: Buffer, fsync: boolean): void {
  const { fd, size } = openForAppend(path);
  try {
    const last = Buffer.alloc(1);
    const torn = size > 0 && (readSync(fd, last, 0, 1, size - 1) !== 1 || last[0] !== NEWLINE);
    try {
      writeAll(fd, torn ? Buffer.concat([NEWLINE_BUF, line]) : line);
      if (fsync) fsOps.fdatasyncSync(fd);
    } catch (err) {
      try {
        fsOps.ftruncateSync(fd, size);
      } catch {
        // Shrinking allocates nothing, so this fails only on a dying disk; the error still reaches
        // the caller, and what is left is at worst a line the next append seals off as torn.
      }
      throw err;
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads the complete lines of `path` from the offset `from(ino, size)` picks; missing reads as empty. */
export function scanFile(path: string, from: (ino: number, size: number) => number = () => 0): Scan {
  let fd: number;
  try {
    fd = openNoFollow(path, constants.O_RDONLY);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return EMPTY_SCAN;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    return { ...scanRange(fd, from(st.ino, st.size), st.size), ino: st.ino, size: st.size };
  } finally {
    closeSync(fd);
  }
}

/** The messages of the complete lines in [from, to); bad lines (unparsable, or too long to read) by offset. */
function scanRange(fd: number, from: number, to: number): Pick<Scan, "entries" | "skippedAt" | "end"> {
  const entries: Entry[] = [];
  const skippedAt: number[] = [];
  const end = eachLine(fd, from, to, {
    line(text, start, lineEnd) {
      const message = parseMessage(text);
      if (message) entries.push({ message, start, end: lineEnd });
      else skippedAt.push(start);
    },
    tooLong: (start) => skippedAt.push(start),
  });
  return { entries, skippedAt, end };
}

/** Unread messages, not consumed. */
export function peekUnread(paths: RolePaths): Scan {
  const cursor = readCursor(paths);
  return scanFile(paths.inbox, (ino, size) => cursorOffsetFor(cursor, ino, size));
}

export interface ConsumeOptions extends StoreOptions {
  /** Who consumed, for `status` (e.g. "hook recv, session 1a2b, pid 123"). */
  by: string;
  /** Called in order; returning false stops (that message and later ones stay unread). */
  accept?: (message: Message, alreadyTaken: number) => boolean;
}

export interface ConsumeResult {
  messages: Message[];
  /** Unread messages left behind because `accept` stopped. */
  remaining: number;
  /** Unparsable lines passed over. */
  skipped: number;
  /** Why compaction failed after the messages were taken (they are not affected; a later consume retries it). */
  compactError?: string;
}

/** Takes unread messages and moves the cursor past them, exactly once across all consumers. */
export function consumeUnread(paths: RolePaths, options: ConsumeOptions): ConsumeResult {
  return withLock(paths.lock, () => {
    let fd: number;
    try {
      fd = openNoFollow(paths.inbox, constants.O_RDWR);
    } catch (err) {
      if (isErrno(err, "ENOENT")) return { messages: [], remaining: 0, skipped: 0 };
      throw err;
    }
    try {
      const st = fstatSync(fd);
      const cursor = readCursor(paths);
      const from = cursorOffsetFor(cursor, st.ino, st.size);
      let size = st.size;
      const last = Buffer.alloc(1);
      if (size > from && (readSync(fd, last, 0, 1, size - 1) !== 1 || last[0] !== NEWLINE)) {
        // We hold the lock, so no writer is mid-line: this tail was torn by a killed writer.
        // Seal it so it is skipped as one bad line and the next append starts a fresh line.
        fsOps.writeSync(fd, NEWLINE_BUF, 0, 1, size);
        size += 1;
      }
      const scan = scanRange(fd, from, size);
      const messages: Message[] = [];
      let to = from;
      for (const entry of scan.entries) {
        if (options.accept && !options.accept(entry.message, messages.length)) break;
        messages.push(entry.message);
        to = entry.end;
      }
      const remaining = scan.entries.length - messages.length;
      if (remaining === 0) to = scan.end; // trailing bad lines are passed over too
      const skipped = scan.skippedAt.filter((at) => at < to).length;
      let compactError: string | undefined;
      if (to > from) {
        // The receipt goes first, then the cursor rename commits. Killed or failing in between, the
        // messages stay unread (delivered again later, never lost) and the receipt only records an
        // attempt; the other order could commit and die before any trace of who took them.
        if (messages.length > 0) {
          const receipt: Receipt = { at: isoTime(), by: options.by, ids: messages.map((m) => m.id), ino: st.ino, from, to };
          appendLine(paths.receipts, Buffer.from(JSON.stringify(receipt) + "\n"), false);
        }
        writeFileAtomic(paths.cursor, JSON.stringify({ ino: st.ino, offset: to } satisfies Cursor));
        // Committed: from here on nothing may keep the messages from the caller.
        if (to >= (options.compactBytes ?? Number.POSITIVE_INFINITY)) {
          try {
            compact(paths, st.ino, to, { fd, end: size }, options.historyFiles ?? 8);
          } catch (err) {
            // Every step of compaction leaves a store the next consume reads correctly (see the top).
            compactError = describeError(err);
          }
        }
      }
      return { messages, remaining, skipped, ...(compactError !== undefined && { compactError }) };
    } finally {
      closeSync(fd);
    }
  });
}

export interface StoredMessage {
  message: Message;
  read: boolean;
}

/**
 * Every kept message of the role, oldest first, each marked read or unread, plus the count of
 * skipped lines. Compaction copies the unread suffix into the new inbox, so one message may sit in
 * a history file and in the inbox (or the next history file): each id is listed once.
 */
/** Where a read of the inbox ended: `tail --follow` goes on from exactly there (src/bus/follow.ts). */
export interface InboxPosition {
  ino: number;
  offset: number;
}

export function readAllKept(paths: RolePaths): { messages: StoredMessage[]; skipped: number; end: InboxPosition } {
  const cursor = readCursor(paths);
  const live = scanFile(paths.inbox);
  const liveRead = cursorOffsetFor(cursor, live.ino, live.size);
  const seen = new Set(live.entries.map((e) => e.message.id));
  const messages: StoredMessage[] = [];
  let skipped = live.skippedAt.length;
  for (const file of listHistory(paths)) {
    if (inodeOf(file.path) === live.ino) continue; // half-done compaction: same file as the inbox
    const scan = scanFile(file.path);
    skipped += scan.skippedAt.length;
    for (const e of scan.entries) {
      if (seen.has(e.message.id)) continue;
      seen.add(e.message.id);
      messages.push({ message: e.message, read: true });
    }
  }
  for (const e of live.entries) messages.push({ message: e.message, read: e.end <= liveRead });
  return { messages, skipped, end: { ino: live.ino, offset: live.end } };
}
