// Disk trouble on demand: the store reaches every call that changes a file through `fsOps`
// (src/lib/fs.ts), so a test can make exactly the n-th such call fail with ENOSPC, EIO or EACCES,
// optionally after part of a write landed, and then check that nothing was half-applied.
import { constants } from "node:fs";
import { fsOps } from "../../src/lib/fs.ts";

type OpName = keyof typeof fsOps;
type AnyFn = (...args: unknown[]) => unknown;

export type FaultCode = "ENOSPC" | "EIO" | "EACCES";

export function errnoError(code: FaultCode, syscall: string): NodeJS.ErrnoException {
  const text = { ENOSPC: "no space left on device", EIO: "i/o error", EACCES: "permission denied" }[code];
  return Object.assign(new Error(`${code}: ${text}, ${syscall} (injected)`), { code, syscall });
}

export interface Fault {
  /** Calls counted so far. */
  readonly calls: number;
  /** Whether the n-th call was reached (and failed). */
  readonly fired: boolean;
  /** Which call failed, e.g. "writeSync". */
  readonly where: string | undefined;
  restore(): void;
}

export interface FaultOptions {
  /** For a failing writeSync: how many of its bytes land before the error (default none). */
  leave?: (length: number) => number;
}

const WRITE_FLAGS = constants.O_WRONLY | constants.O_RDWR | constants.O_CREAT;

/**
 * Makes the n-th (1-based) call that changes a file fail with `code`. Opens count only when they
 * open for writing: a full or failing disk still lets files be read.
 */
export function failNth(n: number, code: FaultCode, options: FaultOptions = {}): Fault {
  const real = { ...fsOps };
  let calls = 0;
  let where: string | undefined;
  const table = fsOps as unknown as Record<OpName, AnyFn>;
  for (const name of Object.keys(real) as OpName[]) {
    const original = real[name] as unknown as AnyFn;
    table[name] = (...args: unknown[]) => {
      const counts = name !== "openSync" || ((args[1] as number) & WRITE_FLAGS) !== 0;
      if (counts && ++calls === n) {
        where = name;
        if (name === "writeSync" && options.leave && Buffer.isBuffer(args[1])) {
          const [fd, buf, off, len, pos] = args as [number, Buffer, number, number, number | undefined];
          const keep = Math.min(len, options.leave(len));
          if (keep > 0) real.writeSync(fd, buf, off, keep, pos ?? null);
        }
        throw errnoError(code, name.replace(/Sync$/, ""));
      }
      return original(...args);
    };
  }
  return {
    get calls() {
      return calls;
    },
    get fired() {
      return where !== undefined;
    },
    get where() {
      return where;
    },
    restore() {
      Object.assign(fsOps, real);
    },
  };
}
