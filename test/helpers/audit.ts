// The exactly-once audit shared by the crash loop and the load test: from what the writers
// acknowledged, what the consumers printed and what the store holds (inboxes, history, cursor,
// receipts), prove that every acknowledged message is either still unread or was taken by exactly
// one consumer — and, if that consumer lived to print, printed once, by it.
//
// Which consume took a message is read from the receipts (src/bus/inbox.ts): each is written just
// before the cursor move it names, so a receipt is committed exactly when the next receipt of the
// role starts where it ended (or in a newer inbox file), or, for the last one, when the cursor has
// moved past it. A receipt that never committed belongs to a consumer that died or failed in
// between; its messages must still be unread.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { listHistoryReceipts } from "../../src/bus/history.ts";
import { readAllKept, readCursor } from "../../src/bus/inbox.ts";
import type { Receipt } from "../../src/bus/inbox.ts";
import { isRecord, parseJson, readFileIfExists } from "../../src/lib/fs.ts";
import type { RolePaths } from "../../src/bus/layout.ts";

export interface Ledger {
  /** id → recipient role and the writer's label ("w1:42"). */
  acked: Map<string, { to: string; label: string }>;
  /** id → the consumers that printed it (with the role they consume). */
  printed: Map<string, { consumer: string; role: string }[]>;
  /** id → the consumer whose committed receipt took it, remembered across audits (old history goes, with its receipts). */
  committed: Map<string, string>;
}

export function newLedger(): Ledger {
  return { acked: new Map(), printed: new Map(), committed: new Map() };
}

export interface AuditStats {
  read: number;
  unread: number;
  /** Taken by a consumer that was killed before it printed them: the inherent at-most-once window. */
  takenUnprinted: number;
  /** Written by a writer killed before it acknowledged them (on disk, so delivered like the rest). */
  unacked: number;
  abortedReceipts: number;
  tornLines: number;
}

export function emptyStats(): AuditStats {
  return { read: 0, unread: 0, takenUnprinted: 0, unacked: 0, abortedReceipts: 0, tornLines: 0 };
}

interface Committed extends Receipt {
  committed: boolean;
}

/** The role's receipts in file order, each marked committed or not; unparsable (torn) lines counted. */
export function readReceipts(paths: RolePaths): { receipts: Committed[]; torn: number } {
  // Compaction moves receipts.jsonl beside the history file it names: all of them, in time order.
  const text = [...listHistoryReceipts(paths).map((f) => f.path), paths.receipts].map((p) => readFileIfExists(p) ?? "").join("\n");
  const list: Receipt[] = [];
  let torn = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const value = parseJson(line);
    if (
      isRecord(value) &&
      Array.isArray(value.ids) &&
      typeof value.ino === "number" &&
      typeof value.from === "number" &&
      typeof value.to === "number"
    )
      list.push(value as unknown as Receipt);
    else torn++;
  }
  const cursor = readCursor(paths);
  let liveIno = -1;
  try {
    liveIno = statSync(paths.inbox).ino;
  } catch {
    // No inbox: nothing can have been committed from it.
  }
  const receipts = list.map((r, i): Committed => {
    const next = list[i + 1];
    const committed = next
      ? next.ino !== r.ino || next.from! >= r.to!
      : (cursor.ino === r.ino && cursor.offset >= r.to!) || liveIno !== r.ino;
    return { ...r, committed };
  });
  return { receipts, torn };
}

/**
 * Audits one recipient role; returns the problems found (empty when exact). `consumerOf` maps a
 * receipt's `by` to the same consumer key the ledger's `printed` uses.
 */
export function auditRole(paths: RolePaths, ledger: Ledger, consumerOf: (by: string) => string, stats: AuditStats): string[] {
  const problems: string[] = [];
  const role = paths.role;
  let kept;
  try {
    kept = readAllKept(paths);
  } catch (err) {
    return [`${role}: the store is not readable: ${String(err)}`];
  }
  stats.tornLines += kept.skipped;
  const store = new Map(kept.messages.map((s) => [s.message.id, s]));
  const { receipts, torn } = readReceipts(paths);
  stats.tornLines += torn;
  const takers = new Map<string, string[]>();
  for (const r of receipts) {
    if (!r.committed) {
      stats.abortedReceipts++;
      continue;
    }
    for (const id of r.ids) takers.set(id, [...(takers.get(id) ?? []), consumerOf(r.by)]);
  }
  for (const [id, who] of takers) {
    if (who.length > 1) problems.push(`${role}: ${id} was committed ${who.length} times (${who.join(", ")})`);
    const before = ledger.committed.get(id);
    if (before !== undefined && before !== who[0]) problems.push(`${role}: ${id} was committed by ${before}, now by ${who[0]}`);
    ledger.committed.set(id, who[0]!);
  }

  const check = (id: string, label: string): void => {
    const stored = store.get(id);
    const printed = (ledger.printed.get(id) ?? []).map((p) => p.consumer);
    if (!stored) {
      problems.push(`${role}: ${label} (${id}) was acknowledged but is not in the store: LOST`);
      return;
    }
    if (printed.length > 1)
      problems.push(`${role}: ${label} (${id}) was printed ${printed.length} times (${printed.join(", ")}): DUPLICATE`);
    const taker = ledger.committed.get(id);
    if (stored.read) {
      stats.read++;
      if (taker === undefined) problems.push(`${role}: ${label} (${id}) is read, but no committed receipt names it: taken without a trace`);
      else if (printed.length === 1 && printed[0] !== taker)
        problems.push(`${role}: ${label} (${id}) was printed by ${printed[0]} but taken by ${taker}: DUPLICATE`);
      else if (printed.length === 0) stats.takenUnprinted++;
    } else {
      stats.unread++;
      if (taker !== undefined) problems.push(`${role}: ${label} (${id}) is unread, but ${taker}'s committed receipt names it`);
      if (printed.length > 0)
        problems.push(`${role}: ${label} (${id}) was printed by ${printed.join(", ")} but is still unread: it will be delivered again`);
    }
  };
  for (const [id, a] of ledger.acked) if (a.to === role) check(id, a.label);
  for (const [id, s] of store) {
    if (ledger.acked.has(id)) continue;
    stats.unacked++;
    check(id, s.message.body.split(" ")[0]!);
  }
  for (const [id, printers] of ledger.printed) {
    for (const p of printers)
      if (p.role === role && !store.has(id)) problems.push(`${role}: ${p.consumer} printed ${id}, which is not in the store`);
  }
  // Per-sender order in the store ("w1:41" before "w1:42").
  const last = new Map<string, number>();
  for (const s of kept.messages) {
    const [sender, n] = s.message.body.split(" ")[0]!.split(":");
    const index = Number(n);
    if (!Number.isInteger(index)) continue;
    if (index <= (last.get(sender!) ?? -1))
      problems.push(`${role}: ${sender}:${index} is stored after ${sender}:${last.get(sender!)}: ORDER`);
    last.set(sender!, index);
  }
  return problems;
}

/** Role folders of a project (each may hold a lock). */
export function roleDirs(root: string, project: string): string[] {
  const dir = join(root, "projects", project);
  try {
    return readdirSync(dir).map((name) => join(dir, name));
  } catch {
    return [];
  }
}
