// A role's history: compaction, which moves the consumed prefix of its inbox (src/bus/inbox.ts)
// out to history/, the receipts that travel with it, and the lookups over both.
//
// Compaction moves the consumed prefix out without ever rewriting what a reader may be using:
//   1. write the unconsumed suffix to inbox.jsonl.compact
//   2. hard-link inbox.jsonl to history/<n>.jsonl   (the old file, whole, is now history)
//   3. rename inbox.jsonl.compact over inbox.jsonl  (a new inode holding only unread lines)
//   4. write the cursor {ino: new inode, offset: 0}
// A crash after 3 leaves a cursor naming the old inode; a cursor for another inode means
// "start of the current file", which after step 3 is exactly the unread suffix. Compaction runs
// after the consume has committed, so its failure (ENOSPC, EIO) is reported, never thrown: the
// messages are already taken, and a later consume compacts instead.
//
// Receipts travel with the messages they name: compaction moves receipts.jsonl to
// history/<n>.receipts.jsonl beside history/<n>.jsonl, and both go when that history file goes,
// so "read by whom" is answerable for exactly as long as the message is kept.
import { closeSync, constants, fstatSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { isErrno } from "../lib/errors.ts";
import { copyRange, ensureDir, fsOps, isRecord, openNoFollow, parseJson, readFolder, removeQuietly, writeFileAtomic } from "../lib/fs.ts";
import { eachLine } from "./lines.ts";
import type { Cursor, Receipt } from "./inbox-records.ts";
import type { RolePaths } from "./layout.ts";

interface HistoryFile {
  seq: number;
  path: string;
}

/** The history files of the role, oldest first. */
export function listHistory(paths: RolePaths): HistoryFile[] {
  return historyFilesNamed(paths, /^(\d+)\.jsonl$/);
}

/** The files of history/ whose name `pattern` matches, its first group the sequence number, oldest first. */
function historyFilesNamed(paths: RolePaths, pattern: RegExp): HistoryFile[] {
  const files: HistoryFile[] = [];
  // A link in place of the folder is never read through (compaction refuses it too).
  for (const { name } of readFolder(paths.history)) {
    const m = pattern.exec(name);
    if (m) files.push({ seq: Number(m[1]), path: join(paths.history, name) });
  }
  return files.sort((a, b) => a.seq - b.seq);
}

/** Caller holds the role lock. The unread tail of the inbox is `inbox.fd` from `consumedTo` to `inbox.end`. */
export function compact(paths: RolePaths, ino: number, consumedTo: number, inbox: { fd: number; end: number }, historyFiles: number): void {
  ensureDir(paths.history);
  removeAbandonedTemps(paths);
  let history = listHistory(paths);
  // A history name sharing the live inode is left by a compaction that died between link and rename.
  for (const file of history) if (inodeOf(file.path) === ino) removeQuietly(file.path);
  history = listHistory(paths);
  const seq = (history.at(-1)?.seq ?? 0) + 1;
  const tmp = `${paths.inbox}.compact`;
  removeQuietly(tmp);
  // Copied a window at a time: the unread tail may be long.
  writeFileAtomic(tmp, (out) => copyRange(inbox.fd, consumedTo, inbox.end, out));
  fsOps.linkSync(paths.inbox, join(paths.history, `${String(seq).padStart(6, "0")}.jsonl`));
  fsOps.renameSync(tmp, paths.inbox);
  const cursor: Cursor = { ino: statSync(paths.inbox).ino, offset: 0, prev: { ino, shift: consumedTo } };
  writeFileAtomic(paths.cursor, JSON.stringify(cursor));
  rotateReceipts(paths, seq);
  const kept = listHistory(paths);
  for (const old of kept.slice(0, Math.max(0, kept.length - historyFiles))) removeQuietly(old.path);
  const oldest = listHistory(paths)[0]?.seq ?? seq + 1;
  for (const file of listHistoryReceipts(paths)) if (file.seq < oldest) removeQuietly(file.path);
}

/**
 * The receipts so far name messages of the inbox file just moved to history/<seq>.jsonl (or of
 * older ones): they move beside it. A crash before this rename leaves them in receipts.jsonl, where
 * findReceipt still reads them, and the next compaction moves them on.
 */
function rotateReceipts(paths: RolePaths, seq: number): void {
  try {
    fsOps.renameSync(paths.receipts, historyReceiptsPath(paths, seq));
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
}

function historyReceiptsPath(paths: RolePaths, seq: number): string {
  return join(paths.history, `${String(seq).padStart(6, "0")}.receipts.jsonl`);
}

/** The receipts moved out with history files, oldest first. */
export function listHistoryReceipts(paths: RolePaths): HistoryFile[] {
  return historyFilesNamed(paths, /^(\d+)\.receipts\.jsonl$/);
}

// The temp files of the role's own rewrites (cursor, compaction, receipts) are written only under
// the role lock, which the caller holds: any still there belongs to a consumer killed between
// create and rename. Clearing them here keeps crash litter bounded.
const LOCKED_TEMP = /^(?:cursor\.json|inbox\.jsonl\.compact|receipts\.jsonl)\.\d+\.[0-9a-f]+\.tmp$/;

function removeAbandonedTemps(paths: RolePaths): void {
  for (const name of readdirSync(paths.dir)) if (LOCKED_TEMP.test(name)) removeQuietly(join(paths.dir, name));
}

export function inodeOf(path: string): number {
  try {
    return statSync(path).ino;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return -1;
    throw err;
  }
}

/**
 * The newest receipt naming message `id`, if any is kept: receipts.jsonl, then the receipts moved
 * out with history files, newest first. Each file is read a window at a time (src/bus/lines.ts).
 */
export function findReceipt(paths: RolePaths, id: string): Receipt | undefined {
  const files = [
    paths.receipts,
    ...listHistoryReceipts(paths)
      .reverse()
      .map((f) => f.path),
  ];
  for (const path of files) {
    const found = newestReceiptIn(path, id);
    if (found) return found;
  }
  return undefined;
}

function newestReceiptIn(path: string, id: string): Receipt | undefined {
  let fd: number;
  try {
    fd = openNoFollow(path, constants.O_RDONLY);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  try {
    let found: Receipt | undefined;
    eachLine(fd, 0, fstatSync(fd).size, {
      line(line) {
        if (!line.includes(id)) return;
        const value = parseJson(line);
        if (isRecord(value) && Array.isArray(value.ids) && value.ids.includes(id)) found = value as unknown as Receipt;
      },
      tooLong: () => {
        // Not a receipt session-bridge wrote: passed over like any bad line.
      },
    });
    return found;
  } finally {
    closeSync(fd);
  }
}
