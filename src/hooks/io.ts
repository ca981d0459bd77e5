// What a hook reads and answers: Claude Code writes one JSON object on the hook's stdin, and the
// hook answers with an exit code, stdout and stderr (docs/claude-code.md "Hooks"). Part of the
// entry (src/hooks.ts reads the input before a hook's own bundle is loaded), so it stays small.
import { fstatSync, writeSync } from "node:fs";
import { BridgeError, describeError, isErrno } from "../lib/errors.ts";
import { formatBytes, readUpTo } from "../lib/fs.ts";
import { oneLine } from "../lib/text.ts";

export type HookInput = Record<string, unknown>;

export interface HookResult {
  code: number;
  stdout?: string;
  stderr?: string;
}

/**
 * Claude Code's hook events are JSON of a few KiB; the largest parts (a prompt, a Bash command, the
 * last reply) are bounded by what a model takes or writes, far below this.
 */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

/**
 * Claude Code writes one JSON object and closes stdin. A terminal or nothing at all on stdin
 * (a person trying the command) reads as {}.
 */
export function readHookInput(): HookInput {
  let kind;
  try {
    kind = fstatSync(0);
  } catch (err) {
    if (isErrno(err, "EBADF")) return {}; // started with stdin closed
    throw err;
  }
  if (!kind.isFIFO() && !kind.isFile() && !kind.isSocket()) return {};
  const text = readAll(0);
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // JSON.parse quotes the start of the input: keep that on one line and unable to drive a terminal.
    const why = oneLine((err as Error).message);
    throw new BridgeError(
      "E_USAGE",
      `the hook input on stdin is not JSON (${why}); this command is meant to be run by Claude Code, which writes the event as JSON`,
    );
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new BridgeError(
      "E_USAGE",
      `the hook input on stdin is JSON but not an object (got ${Array.isArray(value) ? "an array" : typeof value})`,
    );
  return value as HookInput;
}

function readAll(fd: number): string {
  const { bytes, over } = readUpTo(fd, MAX_INPUT_BYTES);
  if (over)
    throw new BridgeError(
      "E_TOO_LARGE",
      `the hook input on stdin is over ${formatBytes(MAX_INPUT_BYTES)} (${MAX_INPUT_BYTES} bytes); stopped reading there. Claude Code's hook events are far smaller: this command is meant to be run by Claude Code`,
    );
  return bytes.toString("utf8");
}

/** Writes a hook's answer (stdout, then stderr) and returns its exit status. */
export function answerHook(result: HookResult): number {
  if (result.stdout) writeFully(1, result.stdout);
  if (result.stderr) writeFully(2, result.stderr);
  return result.code;
}

/**
 * Synchronous writes: process.stdout would build a stream for the pipe (~2 ms: it loads net and
 * stream) to print one JSON line, at the end of a run that has nothing else to do.
 */
function writeFully(fd: number, text: string): void {
  const buf = Buffer.from(text, "utf8");
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      // A non-blocking pipe that is full (a parent that set O_NONBLOCK): wait for its reader.
      if (isErrno(err, "EAGAIN")) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      // The reader is gone: nobody is left to tell.
      else if (isErrno(err, "EPIPE")) return;
      else throw err;
    }
  }
}

/**
 * Ends a hook whose answer is written: here, rather than in Node's teardown, which first runs V8's
 * pending tasks (after a recv with mail, a scavenge of the young heap: 2-7 ms on every such
 * prompt, `node --trace-gc`, for a heap the exit throws away). Anything still pending (a code
 * cache to write, a socket) keeps the normal ending.
 */
export function endHook(code: number): void {
  process.exitCode = code;
  if (process.getActiveResourcesInfo().length === 0) process.exit(code);
}

/** Runs a non-blocking hook: any failure becomes one stderr line and exit 0. */
export async function quietly(name: string, run: () => Promise<HookResult> | HookResult, consequence?: string): Promise<HookResult> {
  try {
    return await run();
  } catch (err) {
    return { code: 0, stderr: `session-bridge hook ${name}: ${describeError(err)}${consequence ? `; ${consequence}` : ""}\n` };
  }
}
