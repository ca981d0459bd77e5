// Typed errors with stable codes: callers branch on `code`, never on message text.
export type ErrorCode =
  | "E_USAGE"
  | "E_BAD_NAME"
  | "E_BAD_BODY"
  | "E_TOO_LARGE"
  | "E_UNKNOWN_ROLE"
  | "E_UNKNOWN_PROJECT"
  | "E_NO_RECIPIENTS"
  | "E_SELF_SEND"
  | "E_NO_IDENTITY"
  | "E_NOT_FOUND"
  | "E_LOCKED"
  | "E_SYMLINK"
  | "E_CONFIG"
  | "E_ADMIN_ONLY"
  | "E_IO"
  // The Redis store (src/store/redis/): unreachable, refused (auth, ACL), or too slow to answer;
  // a role's backlog at its cap; a consume whose lease ran out before its commit.
  | "E_STORE"
  | "E_BACKLOG"
  | "E_LEASE_LOST";

// Each embedded bundle of the binary (build.mjs) carries its own copy of this class, and an error
// thrown inside one (a command) is judged by another (main's exit code): so `instanceof` checks a
// brand shared through the global symbol registry, not the identity of this particular class.
const BRAND = Symbol.for("session-bridge.BridgeError");

export class BridgeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "BridgeError";
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

export function isErrno(err: unknown, ...codes: string[]): err is NodeJS.ErrnoException {
  return (
    err instanceof Error && typeof (err as NodeJS.ErrnoException).code === "string" && codes.includes((err as NodeJS.ErrnoException).code!)
  );
}

/** A one-line description of any thrown value, for stderr and tool results. */
export function describeError(err: unknown): string {
  if (err instanceof BridgeError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // Node's fs errors already begin with their code ("EACCES: permission denied, open '…'").
    return code && !err.message.startsWith(`${code}:`) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** The exit status of a command that failed: 2 for a usage error (as Unix tools do), else 1. */
export function exitCodeFor(err: unknown): number {
  return err instanceof BridgeError && err.code === "E_USAGE" ? 2 : 1;
}

/** A command that failed with nothing to catch it: one line on stderr, and its exit status. */
export function reportFatal(err: unknown): number {
  process.stderr.write(`session-bridge: ${describeError(err)}\n`);
  return exitCodeFor(err);
}

/** A failure as `--json` callers get it on stderr: {"error":{"code","message"}}, the code stable. */
export function errorJson(err: unknown): { error: { code: string; message: string } } {
  const code = err instanceof BridgeError ? err.code : ((err as NodeJS.ErrnoException | undefined)?.code ?? "E_IO");
  return { error: { code, message: err instanceof Error ? err.message : String(err) } };
}

/**
 * `session-bridge tail | head` closes the pipe early: end quietly like other Unix tools instead
 * of dying on EPIPE with a stack trace. Only for commands that print; hooks never pay for it.
 */
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
}
