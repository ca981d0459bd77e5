// File primitives every store write goes through: private modes whatever the umask, no
// symlinks followed, and whole-file rewrites done as temp + rename so a crash leaves either
// the old or the new content, never a mix.
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import type { Dirent, Stats } from "node:fs";
import { BridgeError, isErrno } from "./errors.ts";

/**
 * The calls that change the store, reached through this one object so a test can make one fail
 * (ENOSPC, EIO, EACCES) at a chosen step and check nothing is half-applied, without mocking
 * node:fs. Nothing in the product ever replaces them.
 */
export const fsOps = { openSync, writeSync, fsyncSync, fdatasyncSync, ftruncateSync, renameSync, linkSync };

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** Creates a private directory (and parents) or checks an existing one is a real directory. */
export function ensureDir(path: string): void {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink())
      throw new BridgeError(
        "E_SYMLINK",
        `refusing to use "${path}": it is a symbolic link; remove it and let session-bridge create the folder`,
      );
    if (!st.isDirectory()) throw new BridgeError("E_IO", `"${path}" exists but is not a folder; move it away`);
    return;
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
  mkdirSync(path, { recursive: true, mode: DIR_MODE });
  // mkdir's mode is filtered by the umask; set it explicitly so umask 000 or 077 both give 0700.
  try {
    chmodDir(path);
  } catch (err) {
    // Another process may have created and secured it in between; only a vanished folder is fine.
    if (!isErrno(err, "ENOENT")) throw err;
  }
}

function chmodDir(path: string): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    if ((fstatSync(fd).mode & 0o777) !== DIR_MODE) fchmodSync(fd, DIR_MODE);
  } finally {
    closeSync(fd);
  }
}

/** Refuses a path component that is a symlink (the store never follows links inside the root). */
export function assertNotSymlink(path: string): void {
  try {
    if (lstatSync(path).isSymbolicLink()) {
      throw new BridgeError("E_SYMLINK", `refusing to follow the symbolic link "${path}" inside the bridge root; remove it`);
    }
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
  }
}

/** open(2) that never follows a final symlink and reports one as E_SYMLINK. */
export function openNoFollow(path: string, flags: number, mode = FILE_MODE): number {
  try {
    return fsOps.openSync(path, flags | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if (isErrno(err, "ELOOP")) {
      throw new BridgeError("E_SYMLINK", `refusing to open "${path}": it is a symbolic link; remove it`);
    }
    throw err;
  }
}

/**
 * Opens (creating if needed) a file for appending, forcing mode 0600 whatever the umask, with its
 * size when opened (from the one fstat the mode check needs: an append takes the role's lock, so
 * no other writer of ours moves it). Read-write so the caller can check the last byte; O_APPEND
 * still sends every write to the end.
 */
export function openForAppend(path: string): { fd: number; size: number } {
  const fd = openNoFollow(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT);
  try {
    const st = fstatSync(fd);
    if ((st.mode & 0o777) !== FILE_MODE) fchmodSync(fd, FILE_MODE);
    return { fd, size: st.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * A folder's entries; none when it is missing, not a folder, or a symbolic link: a link planted in
 * place of one of the store's folders is never read through.
 */
export function readFolder(dir: string): Dirent[] {
  try {
    if (lstatSync(dir).isSymbolicLink()) return [];
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, "ENOENT", "ENOTDIR")) return [];
    throw err;
  }
}

/** What readFileIfExists reads at most unless told otherwise: far more than any file the bridge writes. */
export const READ_MAX_BYTES = 16 * 1024 * 1024;

export interface ReadLimit {
  /** Refuse a file larger than this many bytes (default READ_MAX_BYTES). */
  maxBytes?: number;
  /** The error for a file over the limit (default: E_TOO_LARGE naming the file, its size and the limit). */
  tooLarge?: (size: number, maxBytes: number) => Error;
}

/**
 * Reads a whole file without following a symlink; undefined when it does not exist. Only a regular
 * file is read (a FIFO planted in its place would block forever), and only up to a limit: a file
 * someone else grew to gigabytes is refused by its size, never held in memory.
 */
export function readFileIfExists(path: string, limit: ReadLimit = {}): string | undefined {
  const maxBytes = limit.maxBytes ?? READ_MAX_BYTES;
  let fd: number;
  try {
    fd = openNoFollow(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new BridgeError("E_IO", `"${path}" is not a regular file; move it away`);
    // The size read is only a first check: the file may grow before it is read.
    const bytes = st.size > maxBytes ? undefined : readAt(fd, 0, Math.max(st.size, 64 * 1024) + 1);
    if (bytes === undefined || bytes.length > maxBytes) {
      const size = Math.max(st.size, bytes?.length ?? 0);
      throw (
        limit.tooLarge?.(size, maxBytes) ??
        new BridgeError(
          "E_TOO_LARGE",
          `${path} is ${size} bytes, over the ${formatBytes(maxBytes)} session-bridge reads of it; remove or replace it`,
        )
      );
    }
    return bytes.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/** Reads a stream (stdin, a pipe) until its end or until more than `maxBytes` came: `over` says which. */
export function readUpTo(fd: number, maxBytes: number): { bytes: Buffer; over: boolean } {
  let buf = Buffer.allocUnsafe(Math.min(64 * 1024, maxBytes + 1));
  let got = 0;
  for (;;) {
    if (got > maxBytes) return { bytes: buf.subarray(0, got), over: true };
    if (got === buf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, maxBytes + 1));
      buf.copy(bigger, 0, 0, got);
      buf = bigger;
    }
    let n: number;
    try {
      n = readSync(fd, buf, got, buf.length - got, null);
    } catch (err) {
      // A non-blocking pipe inherited from a parent that set O_NONBLOCK: wait for data.
      if (!isErrno(err, "EAGAIN")) throw err;
      sleepSync(2);
      continue;
    }
    if (n === 0) return { bytes: buf.subarray(0, got), over: false };
    got += n;
  }
}

/** "1 MiB", "8 MiB", "262144 bytes": a limit as people set it. */
export function formatBytes(n: number): string {
  return n >= 1024 * 1024 && n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}

export function writeAll(fd: number, data: string | Buffer): void {
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let off = 0;
  while (off < buf.length) off += fsOps.writeSync(fd, buf, off, buf.length - off);
}

/**
 * Replaces `path` atomically: write a private temp file beside it, then rename over it.
 * rename(2) replaces a symlink itself rather than its target, so a planted link is never written through.
 */
export function writeFileAtomic(
  path: string,
  data: string | Buffer | ((fd: number) => void),
  options: { fsync?: boolean; mode?: number } = {},
): void {
  const tmp = `${path}.${process.pid}.${randomHex(4)}.tmp`;
  const fd = fsOps.openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode ?? FILE_MODE);
  try {
    fchmodSync(fd, options.mode ?? FILE_MODE);
    if (typeof data === "function") data(fd);
    else writeAll(fd, data);
    if (options.fsync) fsOps.fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    removeQuietly(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    fsOps.renameSync(tmp, path);
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
}

let urandom: number | undefined;
/** Random bytes read ahead and not yet handed out: one read serves a process's next ~20 sends. */
const POOL_BYTES = 256;
/** Allocated on the first draw: most processes that import this module (a hook outside a bridged session) never draw. */
let pool: Buffer | undefined;
let poolAt = POOL_BYTES;

/**
 * `bytes` random bytes as hex, read from /dev/urandom: importing node:crypto costs every process
 * ~2 ms at startup (a tenth of a hook's whole budget), reading the device a few microseconds.
 * Read 256 bytes at a time, each handed out once: a send takes two draws (its id, its lock's
 * token), and a process sending in a loop then reads the device once per ~20 sends, not twice per
 * send. Without the device (an odd sandbox) Web Crypto does the same job.
 */
export function randomHex(bytes: number): string {
  if (bytes > POOL_BYTES) return readRandom(Buffer.alloc(bytes)).toString("hex");
  if (pool === undefined || poolAt + bytes > POOL_BYTES) {
    pool = readRandom(pool ?? Buffer.alloc(POOL_BYTES));
    poolAt = 0;
  }
  const hex = pool.toString("hex", poolAt, poolAt + bytes);
  poolAt += bytes;
  return hex;
}

function readRandom(buf: Buffer): Buffer {
  try {
    // libuv opens every file close-on-exec, so spawned children do not inherit it.
    urandom ??= openSync("/dev/urandom", constants.O_RDONLY);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(urandom, buf, got, buf.length - got, null);
      if (n <= 0) throw new Error("/dev/urandom returned no data");
      got += n;
    }
  } catch {
    // No /dev/urandom here: the global Web Crypto is loaded on first use only.
    globalThis.crypto.getRandomValues(buf);
  }
  return buf;
}

export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    // Already gone is the goal; anything else (EACCES, EISDIR) is a real problem.
    if (!isErrno(err, "ENOENT")) throw err;
  }
}

/** Parses JSON, returning undefined instead of throwing (callers report what they skipped). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Bad data never blocks: the caller decides whether undefined is an error to report.
    return undefined;
  }
}

/** Owned by another user (never where there are no uids): the root and the code caches must be ours. */
export function ownedByOther(st: Stats): boolean {
  return typeof process.getuid === "function" && st.uid !== process.getuid();
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Synchronous sleep for lock backoff (hooks and the CLI are short-lived and synchronous). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Copies bytes [from, to) of `source` to the end of `target`, a window at a time. */
export function copyRange(source: number, from: number, to: number, target: number): void {
  const window = Buffer.allocUnsafe(Math.max(1, Math.min(1024 * 1024, to - from)));
  for (let pos = from; pos < to; ) {
    const n = readSync(source, window, 0, Math.min(window.length, to - pos), pos);
    if (n === 0) break;
    writeAll(target, window.subarray(0, n));
    pos += n;
  }
}

/** Up to `length` bytes of `fd` from `position` (fewer only at the end of the file). */
/** The first `length` bytes of a file (fewer when it is shorter); undefined when it cannot be opened or read. */
export function readHead(path: string, length: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined;
  }
  try {
    return readAt(fd, 0, length);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(Math.max(0, length));
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === buf.length ? buf : buf.subarray(0, got);
}
