// What a command line really runs, for the guard: programs that run another program
// (sudo, env, timeout, xargs, npx…) are unwrapped to the program they run; programs that run
// a script string (env -S, watch, flock -c, su -c, ssh) hand the string back to be parsed.
// Pure; every table is a constant built at import time.
import { DYN, escapeRe, type ShellWord } from "../shell/parse.ts";

export function basename(path: string): string {
  const k = path.lastIndexOf("/");
  return k < 0 ? path : path.slice(k + 1);
}

/** A word known only at run time (for arguments the guard makes up, such as the input xargs appends). */
export function dynamicWord(raw: string, split = true): ShellWord {
  return { value: DYN, raw, dynamic: true, split, pattern: "[^]*" };
}

/** A word's text as a script to parse again: an unknown part becomes an unquoted variable. */
export function scriptText(value: string): string {
  return value.includes(DYN) ? value.split(DYN).join("$UNKNOWN_VALUE") : value;
}

/** Could this word (a program path) run a program whose file name is `name`? */
export function couldBeProgram(word: ShellWord, name: string): boolean {
  if (!word.dynamic) return basename(word.value) === name;
  const dir = word.value.slice(0, word.value.lastIndexOf("/") + 1);
  const re = new RegExp(`^(?:${word.pattern})$`);
  return re.test(name) || re.test(dir + name);
}

/** Could this (argument) word be exactly `text` at run time? */
export function couldBe(word: ShellWord, text: string): boolean {
  return word.dynamic ? new RegExp(`^(?:${word.pattern})$`).test(text) : word.value === text;
}

interface Spec {
  /** Short options that take a value (`-u root`, `-uroot`). */
  arg?: string;
  /** Long options that take a value in the next word (`--user root`). */
  long?: string[];
  /** Operands before the command (timeout's DURATION, chroot's NEWROOT). */
  positionals?: number;
  /** NAME=value words may follow the options (env, sudo). */
  assigns?: boolean;
}

const SPECS: Record<string, Spec> = {
  env: { arg: "uCS", long: ["--unset", "--chdir", "--split-string"], assigns: true },
  command: {},
  builtin: {},
  exec: { arg: "a" },
  nohup: {},
  setsid: {},
  unbuffer: {},
  catchsegv: {},
  busybox: {},
  time: { arg: "fo", long: ["--format", "--output"] },
  sudo: {
    arg: "ughpCDRrtTU",
    long: [
      "--user",
      "--group",
      "--host",
      "--prompt",
      "--close-from",
      "--chdir",
      "--chroot",
      "--role",
      "--type",
      "--command-timeout",
      "--other-user",
    ],
    assigns: true,
  },
  doas: { arg: "uC" },
  nice: { arg: "n", long: ["--adjustment"] },
  ionice: { arg: "cnpPu", long: ["--class", "--classdata", "--pid", "--pgid", "--uid"] },
  timeout: { arg: "ks", long: ["--kill-after", "--signal"], positionals: 1 },
  stdbuf: { arg: "ioe", long: ["--input", "--output", "--error"] },
  chrt: { arg: "TPD", long: ["--sched-runtime", "--sched-period", "--sched-deadline"], positionals: 1 },
  taskset: { positionals: 1 },
  chroot: { long: ["--userspec", "--groups"], positionals: 1 },
  xargs: {
    arg: "adEILnPs",
    long: ["--arg-file", "--delimiter", "--max-lines", "--max-args", "--max-procs", "--max-chars", "--process-slot-var"],
  },
  parallel: {
    arg: "jSaEdI",
    long: ["--jobs", "--sshlogin", "--arg-file", "--delimiter", "--results", "--joblog", "--workdir", "--timeout"],
  },
  strace: { arg: "abeEIoOpPsSuUX", long: ["--output", "--user", "--trace", "--signal", "--attach"] },
  ltrace: { arg: "aAeEnopsuDlw", long: ["--output", "--user", "--library"] },
  script: { arg: "cEIOBTm", long: ["--command", "--log-in", "--log-out", "--log-io", "--log-timing", "--logging-format", "--echo"] },
  unshare: { arg: "SGR", long: ["--setuid", "--setgid", "--root", "--wd", "--map-user", "--map-group"] },
  flock: { arg: "wEc", long: ["--timeout", "--conflict-exit-code", "--command"] },
  watch: { arg: "n", long: ["--interval"] },
  su: { arg: "cgGs", long: ["--command", "--group", "--supp-group", "--shell", "--session-command"] },
  sg: {},
  runuser: { arg: "ugGcs", long: ["--user", "--group", "--supp-group", "--command", "--shell", "--session-command"] },
  ssh: { arg: "BbcDEeFIiJLlmOopQRSWw" },
  npx: { arg: "pc", long: ["--package", "--call"] },
  bunx: { arg: "p", long: ["--package"] },
  pnpx: { arg: "p", long: ["--package"] },
};

/** `npm exec`, `pnpm dlx`…: package runners spelled as two words. */
const RUNNER_VERBS: Record<string, Set<string>> = {
  npm: new Set(["exec", "x"]),
  pnpm: new Set(["exec", "dlx"]),
  yarn: new Set(["exec", "dlx"]),
};

export interface Options {
  /** Each option seen, as [name, value] (`-u` → "root"; a flag's value is undefined). */
  seen: [string, string | undefined][];
  /** Index of the first operand. */
  at: number;
}

export function scanOptions(words: ShellWord[], from: number, spec: Spec): Options {
  const seen: Options["seen"] = [];
  let i = from;
  for (; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === "--") return { seen, at: i + 1 };
    if (!v.startsWith("-") || v === "-") break;
    if (v.startsWith("--")) {
      const eq = v.indexOf("=");
      if (eq >= 0) seen.push([v.slice(0, eq), v.slice(eq + 1)]);
      else if (spec.long?.includes(v)) seen.push([v, words[++i]?.value]);
      else seen.push([v, undefined]);
      continue;
    }
    for (let k = 1; k < v.length; k++) {
      const ch = v[k]!;
      if (spec.arg?.includes(ch)) {
        seen.push(["-" + ch, k + 1 < v.length ? v.slice(k + 1) : words[++i]?.value]);
        break;
      }
      seen.push(["-" + ch, undefined]);
    }
  }
  return { seen, at: i };
}

export interface Unwrapped {
  /** The command the wrapper runs, program first (may be empty). */
  inner: ShellWord[];
  /** Script strings it hands to a shell. */
  scripts: string[];
  /** NAME=value words it puts in the environment of `inner`. */
  assigns: ShellWord[];
}

const value = (seen: Options["seen"], ...names: string[]) => seen.find(([n]) => names.includes(n))?.[1];
const has = (seen: Options["seen"], ...names: string[]) => seen.some(([n]) => names.includes(n));
// env (and sudo) take every operand holding "=" as an assignment, not only NAME=value:
// `env '*A=1' git push` and `env =1 git push` run git (found by test/harden/harden-guard-fuzz.test.ts).
const ENV_ASSIGNMENT = /=/;

/**
 * If `name` (the basename of words[0]) runs another command, what it runs; otherwise undefined.
 * `upstream` gives the input xargs and parallel read, for messages and the settings check.
 */
export function unwrap(name: string, words: ShellWord[], upstream: () => string, input?: () => string | undefined): Unwrapped | undefined {
  const runner = RUNNER_VERBS[name];
  if (runner) {
    if (!runner.has(words[1]?.value ?? "")) return undefined;
    const o = scanOptions(words, 2, { arg: "c", long: ["--package", "--call"] });
    return result(stripVersion(words.slice(o.at)), scriptsOf(o.seen, "-c", "--call"));
  }
  const spec = SPECS[name];
  if (!spec) return undefined;
  const o = scanOptions(words, 1, spec);
  let at = o.at + (spec.positionals ?? 0);
  const assigns: ShellWord[] = [];
  if (spec.assigns) while (at < words.length && ENV_ASSIGNMENT.test(words[at]!.value)) assigns.push(words[at++]!);
  const rest = words.slice(at);
  switch (name) {
    case "command":
      return has(o.seen, "-v", "-V") ? result([]) : result(rest);
    case "env": {
      const split = value(o.seen, "-S", "--split-string");
      if (split === undefined) return { ...result(rest), assigns };
      return { ...result([], [split + " " + rest.map((w) => w.raw).join(" ")]), assigns };
    }
    case "xargs":
      return result(xargsCommand(rest, o.seen, upstream(), input?.()));
    case "flock": {
      const script = value(o.seen, "-c", "--command");
      if (script !== undefined) return result([], [script]);
      const after = rest.slice(1);
      const v = after[0]?.value;
      if (v === "-c" || v === "--command") return result([], after[1] ? [after[1].value] : []);
      return result(after);
    }
    case "parallel": {
      // GNU parallel runs its command through a shell, with arguments after ::: (or from stdin).
      const end = rest.findIndex((w) => w.value === ":::" || w.value === "::::");
      const command = end < 0 ? rest : rest.slice(0, end);
      return result(command.length ? [...command, dynamicWord(upstream() || "<arguments>")] : [], [command.map((w) => w.value).join(" ")]);
    }
    case "script":
      return result([], scriptsOf(o.seen, "-c", "--command"));
    case "sg": {
      // `sg GROUP [-c] COMMAND`: COMMAND is run by /bin/sh -c.
      const command = rest[1]?.value === "-c" ? rest.slice(2) : rest.slice(1);
      return result([], command.length ? [command.map((w) => w.value).join(" ")] : []);
    }
    case "watch":
      return result([], [rest.map((w) => w.value).join(" ")]);
    case "su":
      return result([], scriptsOf(o.seen, "-c", "--command", "--session-command"));
    case "runuser":
      return has(o.seen, "-u", "--user")
        ? result(rest, scriptsOf(o.seen, "-c", "--command"))
        : result([], scriptsOf(o.seen, "-c", "--command"));
    case "ssh":
      return result(
        [],
        rest.length > 1
          ? [
              rest
                .slice(1)
                .map((w) => w.value)
                .join(" "),
            ]
          : [],
      );
    case "chrt":
    case "taskset":
    case "ionice":
      return has(o.seen, "-p", "--pid") ? result([]) : result(rest);
    case "npx":
    case "bunx":
    case "pnpx":
      return result(stripVersion(rest), scriptsOf(o.seen, "-c", "--call"));
    default:
      return { ...result(rest), assigns };
  }
}

function result(inner: ShellWord[], scripts: string[] = []): Unwrapped {
  return { inner, scripts: scripts.map(scriptText), assigns: [] };
}

function scriptsOf(seen: Options["seen"], ...names: string[]): string[] {
  return seen.filter(([n, v]) => names.includes(n) && v !== undefined).map(([, v]) => v!);
}

/** xargs runs its command (default echo) with words read from stdin appended. */
function xargsCommand(rest: ShellWord[], seen: Options["seen"], upstream: string, text: string | undefined): ShellWord[] {
  if (rest.length === 0) return [];
  const repl = value(seen, "-I", "--replace") ?? (has(seen, "-i") ? "{}" : undefined);
  // Input known in full (`echo status | xargs git`), in one command: its words. Else unknown words.
  const split = has(
    seen,
    "-n",
    "-L",
    "-l",
    "--max-args",
    "--max-lines",
    "-a",
    "--arg-file",
    "-0",
    "--null",
    "-d",
    "--delimiter",
    "-E",
    "-e",
  );
  if (text !== undefined && !split && !/['"\\\u0000]/.test(text)) {
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    const literal = (v: string): ShellWord => ({ value: v, raw: v, dynamic: false, split: false, pattern: escapeRe(v) });
    if (repl === undefined) return [...rest, ...text.split(/\s+/).filter(Boolean).map(literal)];
    if (lines.length <= 1) return rest.map((w) => literal(w.value.split(repl).join((lines[0] ?? "").trim())));
  }
  const input = dynamicWord(upstream || "<stdin>");
  if (repl === undefined) return [...rest, input];
  return rest.map((w) => (w.value.includes(repl) ? { ...input, raw: w.raw + " " + input.raw } : w));
}

/** `npx session-bridge@0.1.0 …` runs the bin named like the package. */
function stripVersion(words: ShellWord[]): ShellWord[] {
  const first = words[0];
  if (!first) return words;
  const at = first.value.lastIndexOf("@");
  if (at <= 0) return words;
  return [{ ...first, value: first.value.slice(0, at) }, ...words.slice(1)];
}
