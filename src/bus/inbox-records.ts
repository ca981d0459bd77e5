// The records kept beside a role's inbox (src/bus/inbox.ts): how far it has been consumed, and who
// took what. Their own module, so the inbox and its history (src/bus/history.ts) share them
// without importing each other.

/** How far the role has consumed: a byte offset into the inbox file with inode `ino`. */
export interface Cursor {
  ino: number;
  offset: number;
  /** Set by compaction: offsets into the previous inode map to `offset - shift` in this one. */
  prev?: { ino: number; shift: number };
}

/**
 * Who took which messages. Written just before the cursor move it names (inbox file `ino`, offsets
 * `from` → `to`): a receipt whose move never landed (the consumer died or failed in between) names
 * messages that are still unread. So read/unread always comes from the cursor, and for a read
 * message the newest receipt naming it is the consume that committed it.
 */
export interface Receipt {
  at: string;
  by: string;
  ids: string[];
  ino?: number;
  from?: number;
  to?: number;
}
