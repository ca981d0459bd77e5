// What is new for a role, from the daemon's point of view: the complete lines after both its own
// position and the role's consumer cursor. The daemon never consumes; its position only says
// "already considered", so a batch is woken for once, and mail a session already read is never
// a reason to wake it.
import { cursorOffsetFor, peekUnread, readCursor, scanFile } from "../bus/inbox.ts";
import type { Cursor } from "../bus/inbox.ts";
import type { RolePaths } from "../bus/layout.ts";
import type { Message } from "../bus/message.ts";

/** Where the daemon has looked up to in a role's inbox file (inode + byte offset of a line end). */
export interface Position {
  ino: number;
  offset: number;
}

export interface Batch {
  messages: Message[];
  /** Unparsable lines inside the batch (torn or garbage), passed over. */
  skipped: number;
  /** The position just past the batch: where the daemon has looked up to once it is handled. */
  end: Position;
  size: number;
}

/**
 * The daemon position's offset within the inbox file `ino`. Compaction replaces the file and
 * records in the cursor how old offsets map into the new one (`prev`); a position in a file we
 * cannot map (more than one compaction ago) falls back to 0, where the consumer cursor bounds it.
 */
export function positionIn(position: Position | undefined, cursor: Cursor, ino: number): number {
  if (!position) return 0;
  if (position.ino === ino) return position.offset;
  if (cursor.ino === ino && cursor.prev?.ino === position.ino) return Math.max(0, position.offset - cursor.prev.shift);
  return 0;
}

export function readBatch(paths: RolePaths, position: Position | undefined): Batch {
  for (let attempt = 0; ; attempt++) {
    const cursor = readCursor(paths);
    const scan = scanFile(paths.inbox, (ino, size) =>
      Math.min(size, Math.max(positionIn(position, cursor, ino), cursorOffsetFor(cursor, ino, size))),
    );
    // A cursor naming another file was read just before a compaction swapped the inbox: read both again.
    if (attempt === 0 && scan.ino !== -1 && cursor.ino !== -1 && cursor.ino !== scan.ino) continue;
    return {
      messages: scan.entries.map((e) => e.message),
      skipped: scan.skippedAt.length,
      end: { ino: scan.ino, offset: scan.end },
      size: scan.size,
    };
  }
}

/** The end of the complete lines now in the inbox: where a daemon starting without --replay begins. */
export function endPosition(paths: RolePaths): { position: Position; unread: number } {
  const scan = peekUnread(paths);
  return { position: { ino: scan.ino, offset: scan.end }, unread: scan.entries.length };
}

/** True once none of `ids` is unread any more (the session, a run or a human took them). */
export function allTaken(paths: RolePaths, ids: readonly string[]): boolean {
  const unread = new Set(peekUnread(paths).entries.map((e) => e.message.id));
  return !ids.some((id) => unread.has(id));
}
