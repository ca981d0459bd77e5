// Process facts where there is no /proc (macOS, BSD, a Linux with /proc hidden): the `ps` program.
// Only what BSD ps (macOS) and procps (Linux) both accept is used: one `-o KEYWORD=` per column
// (an empty header each, so no header line), `-p PID`, `-A`. It runs with LC_ALL=C and TZ=UTC0,
// so `lstart` ("Sat Dec  5 13:16:41 2026") reads the same whoever runs it, in whatever time zone:
// a start time recorded by one process must compare equal when another process reads it again.
// A ps call costs a fork and exec (see the README's "Platforms"): callers use it only when there
// is no /proc.
import { nodeRequire } from "./builtin.ts";

/** The columns `psFacts` reads, each a single word except lstart (five words, always last). */
export const FACT_COLUMNS = ["ppid", "pgid", "tpgid", "stat", "lstart"] as const;

export interface PsFacts {
  ppid: number;
  /** The process group. */
  pgid: number;
  /** The foreground process group of its controlling terminal (0 or -1: it has none). */
  tpgid: number;
  /** BSD/procps state letters, e.g. "S+", "Ss", "Z". */
  stat: string;
  /** Seconds since the epoch (UTC) it started, to the second; undefined when unreadable. */
  start: number | undefined;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const LSTART = /^[A-Z][a-z]{2}\s+([A-Z][a-z]{2})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})$/;

/** `lstart` as printed with TZ=UTC0 and LC_ALL=C ("Sat Dec  5 13:16:41 2026") → epoch seconds. */
export function parseLstart(text: string): number | undefined {
  const m = LSTART.exec(text.trim());
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return undefined;
  const ms = Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

/** One line of `ps -o ppid= -o pgid= -o tpgid= -o stat= -o lstart= -p PID`. */
export function parsePsFacts(line: string): PsFacts | undefined {
  const words = line.trim().split(/\s+/);
  if (words.length < 4) return undefined;
  const [ppid, pgid, tpgid] = words.slice(0, 3).map(Number) as [number, number, number];
  if (![ppid, pgid, tpgid].every(Number.isInteger)) return undefined;
  return { ppid, pgid, tpgid, stat: words[3]!, start: parseLstart(words.slice(4).join(" ")) };
}

/** `ps -A -o pid= -o ppid=` → pid → parent pid. */
export function parseParents(text: string): Map<number, number> {
  const parents = new Map<number, number>();
  for (const line of text.split("\n")) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (Number.isInteger(pid) && Number.isInteger(ppid)) parents.set(pid!, ppid!);
  }
  return parents;
}

const PS_ENV_KEYS = ["PATH", "HOME"];

/**
 * Runs ps with a fixed locale and time zone; undefined when it fails. ps exits 1 when the pid is
 * not there (it just exited), and a missing ps program reads the same: "no facts".
 */
export function runPs(args: string[]): string | undefined {
  const env: NodeJS.ProcessEnv = { LC_ALL: "C", TZ: "UTC0" };
  for (const key of PS_ENV_KEYS) if (process.env[key] !== undefined) env[key] = process.env[key];
  // Loaded here, not imported: most processes never run ps, and loading node:child_process costs ms.
  const { execFileSync } = nodeRequire("node:child_process") as typeof import("node:child_process");
  // From PATH first (a stand-in may be there: scripts/without-proc.sh); a PATH without it (a
  // trimmed hook environment) still finds the system's own.
  for (const program of ["ps", "/bin/ps"]) {
    try {
      return execFileSync(program, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 });
    } catch (err) {
      // Not found: try the next. Gone (exit 1) or refused: the caller treats it as unknown.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") return undefined;
    }
  }
  return undefined;
}

export function psFacts(pid: number): PsFacts | undefined {
  const out = runPs([...FACT_COLUMNS.flatMap((c) => ["-o", `${c}=`]), "-p", String(pid)]);
  return out === undefined ? undefined : parsePsFacts(out.split("\n")[0] ?? "");
}

/** Every process's parent, from one `ps -A` (a tree walk costs one call, not one per step). */
export function psParents(): Map<number, number> | undefined {
  const out = runPs(["-A", "-o", "pid=", "-o", "ppid="]);
  return out === undefined ? undefined : parseParents(out);
}

/** One free-text column (`comm` or `args`) of one process; undefined when it is gone. */
export function psText(pid: number, column: "comm" | "args"): string | undefined {
  const out = runPs(["-o", `${column}=`, "-p", String(pid)]);
  const line = out?.split("\n")[0]?.trim();
  return line ? line : undefined;
}
