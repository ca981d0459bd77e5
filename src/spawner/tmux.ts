// Talking to tmux: argument builders (pure) and one small exec wrapper. The runner is injected so
// the tmux driver can be tested against a fake, and so every call carries its socket (`-S`): the
// daemon never guesses which server a pane lives on.
import { execFile } from "node:child_process";

export interface TmuxResult {
  /** Exit code; null when tmux could not be run or was killed by the timeout. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export type TmuxRunner = (args: string[]) => Promise<TmuxResult>;

const EXEC_TIMEOUT_MS = 5000;

/** Runs `tmux ARGS` and never rejects: a missing binary or a hung server comes back as code null. */
export const execTmux: TmuxRunner = (args) =>
  new Promise((resolve) => {
    // TMUX in our environment would make tmux prefer the caller's server when no -S is given.
    const env = { ...process.env };
    delete env.TMUX;
    delete env.TMUX_PANE;
    execFile("tmux", args.map(literalArg), { env, timeout: EXEC_TIMEOUT_MS, encoding: "utf8" }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, stdout, stderr });
      // execFile reports an exit status as a numeric `code`, a spawn failure as an errno string.
      const raw: unknown = (err as { code?: unknown }).code;
      const code = typeof raw === "number" ? raw : null;
      const why =
        code !== null
          ? ""
          : raw === "ENOENT"
            ? "tmux is not installed or not on PATH"
            : err.killed
              ? "tmux did not answer within 5 s"
              : err.message;
      resolve({ code, stdout: stdout ?? "", stderr: (stderr ?? "") + why });
    });
  });

/** Selects the server: an explicit socket path, else tmux's default (TMUX_TMPDIR/default). */
export function serverArgs(socket: string | undefined): string[] {
  return socket ? ["-S", socket] : [];
}

/**
 * tmux splits commands on any argument that ends in ";", even after `--` (seen with 3.3a: a nudge
 * ending in ";" lost it, an `-e NAME=value;` broke new-session). An argument ending in "\;" is
 * passed on as ending in ";", so the runner escapes the last ";" of every argument; this is exact
 * for any text, including one already ending in "\;". Builders return the raw arguments.
 */
export function literalArg(text: string): string {
  return text.endsWith(";") ? `${text.slice(0, -1)}\\;` : text;
}

/** Types `text` literally (no key names, no format expansion) into the pane. */
export function sendLiteralArgs(socket: string | undefined, pane: string, text: string): string[] {
  return [...serverArgs(socket), "send-keys", "-t", pane, "-l", "--", text];
}

export function sendEnterArgs(socket: string | undefined, pane: string): string[] {
  return [...serverArgs(socket), "send-keys", "-t", pane, "Enter"];
}

const PANE_FORMAT = "#{pane_id}\t#{pane_pid}\t#{pane_dead}\t#{cursor_y}\t#{pane_current_command}";

export function paneInfoArgs(socket: string | undefined, target: string): string[] {
  return [...serverArgs(socket), "display-message", "-p", "-t", target, PANE_FORMAT];
}

export interface PaneInfo {
  id: string;
  pid: number;
  dead: boolean;
  cursorY: number;
  command: string;
}

export function parsePaneInfo(stdout: string): PaneInfo | undefined {
  const [id, pid, dead, cursorY, ...command] = stdout.replace(/\n$/, "").split("\t");
  if (!id || !/^%\d+$/.test(id) || pid === undefined || !/^\d+$/.test(pid)) return undefined;
  return { id, pid: Number(pid), dead: dead === "1", cursorY: Number(cursorY) || 0, command: command.join("\t") };
}

/** The visible line the cursor is on (where a TUI keeps its input), wrapped text not joined. */
export function cursorLineArgs(socket: string | undefined, pane: string, y: number): string[] {
  return [...serverArgs(socket), "capture-pane", "-p", "-t", pane, "-S", String(y), "-E", String(y)];
}

/**
 * Whether a captured input line still ends with the typed text: its last characters (a long
 * nudge wraps, so only its tail is on the cursor line), ignoring padding and the box-drawing
 * border a TUI draws around its input.
 */
export function lineShowsTyped(line: string, typed: string): boolean {
  const shown = line.replace(/[\s\u2500-\u257f]+$/u, "");
  if (shown === "") return false;
  const tail = typed.trimEnd().slice(-12);
  if (tail === "") return false;
  if (shown.endsWith(tail)) return true;
  // The wrap may have left fewer characters than the tail on the last line.
  return shown.length >= 3 && tail.endsWith(shown.trimStart()) && shown.trimStart().length >= 3;
}

/** Friendly one-line reason from a failed tmux call. */
export function describeFailure(result: TmuxResult): string {
  const text = result.stderr.trim().split("\n")[0] ?? "";
  return text || (result.code === null ? "tmux did not answer" : `tmux exited with ${result.code}`);
}
