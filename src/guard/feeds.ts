// What a command reads: its stdin and other input descriptors, as far as the command text shows
// them — a here-document, a here-string, a pipe from echo/printf/cat, a process substitution,
// a descriptor opened earlier with `exec 3<…`. Text a shell (or make, sed, ex…) runs as code
// is checked like the command itself (check.ts); what a file or an unknown program prints is
// opaque: a file is a script the guard does not read (a documented limit), a program's
// arguments get the word check.
import { decodeAnsiC } from "../shell/expand.ts";
import { DYN, parseShell, type ShellCommand, type ShellRedirect, type ShellWord } from "../shell/parse.ts";
import { basename } from "./programs.ts";
import type { Feed, FeedPart, ShellState } from "./state.ts";

export type { Feed, FeedPart } from "./state.ts";

const EMPTY: Feed = { parts: [] };
const OUT_OPS = new Set([">", ">>", ">|", "&>", "&>>", ">&", "<>"]);

/** `/dev/stdin`, `/dev/fd/3`, `/proc/self/fd/0`: the descriptor a path names, if it names one. */
export function fdOfPath(path: string): number | undefined {
  if (path === "/dev/stdin") return 0;
  const m = /^\/(?:dev\/fd|proc\/(?:self|thread-self)\/fd)\/([0-9]+)$/.exec(path);
  return m ? Number(m[1]) : undefined;
}

/** The feed a file operand names: a process substitution, or a descriptor path. */
export function feedOfWord(w: ShellWord, fds: Map<number, Feed>, st: ShellState): Feed | undefined {
  if (w.procsub) return produced(w.procsub, st);
  const fd = w.dynamic ? undefined : fdOfPath(w.value);
  return fd === undefined ? undefined : (fds.get(fd) ?? EMPTY);
}

/** The input descriptors of a command after its pipe and redirections, in bash's order (left to right). */
export function inputs(cmd: ShellCommand, st: ShellState): Map<number, Feed> {
  const fds = new Map(st.fds);
  if (cmd.upstream) fds.set(0, produced(cmd.upstream, st));
  for (const r of cmd.redirects) redirect(r, fds, st);
  return fds;
}

/** Applies one redirection to a descriptor table (also for `exec 3<<<…`, which keeps it: `merge`, see builtins.ts). */
export function redirect(r: ShellRedirect, fds: Map<number, Feed>, st: ShellState, merge = false): void {
  if (merge) {
    const fresh = new Map<number, Feed>();
    redirect(r, fresh, st);
    for (const [fd, feed] of fresh) fds.set(fd, { parts: [...(fds.get(fd)?.parts ?? []), ...feed.parts] });
    return;
  }
  const op = r.op;
  if (op === "<<" || op === "<<-") fds.set(r.fd ?? 0, { parts: [{ text: r.text ?? r.body ?? "" }] });
  else if (op === "<<<") fds.set(r.fd ?? 0, { parts: [{ text: r.target.value + "\n" }] });
  else if (op === "<") fds.set(r.fd ?? 0, feedOfWord(r.target, fds, st) ?? { parts: [{ file: r.target.raw }] });
  else if (op === "<&") {
    const from = fds.get(Number(r.target.value));
    // `<&3` with 3 closed fails, and the command does not run: nothing to read either way.
    if (from && /^[0-9]+$/.test(r.target.value)) fds.set(r.fd ?? 0, from);
    else fds.delete(r.fd ?? 0);
  } else if (op === "&>" || op === "&>>") {
    fds.delete(1);
    fds.delete(2);
  } else if (OUT_OPS.has(op)) fds.delete(r.fd ?? (op === "<>" ? 0 : 1));
}

/** Does the command's stdout still go where it started (the pipe), after its redirections? */
function writesStdout(cmd: ShellCommand): boolean {
  for (const r of cmd.redirects) {
    if (r.op === "&>" || r.op === "&>>") return false;
    if ((r.op === ">" || r.op === ">>" || r.op === ">|") && (r.fd ?? 1) === 1) return false;
    if (r.op === ">&" && (r.fd ?? 1) === 1 && r.target.value !== "1") return false;
  }
  return true;
}

/** What the commands of a pipeline stage print to its stdout. */
export function produced(cmds: ShellCommand[], st: ShellState): Feed {
  const consumed = new Set<ShellCommand>();
  for (const c of cmds) for (const u of c.upstream ?? []) consumed.add(u);
  const parts: FeedPart[] = [];
  const level = Math.min(...cmds.map((c) => c.subst ?? 0));
  for (const c of cmds) {
    if ((c.subst ?? 0) !== level || consumed.has(c) || c.words.length === 0 || !writesStdout(c)) continue;
    parts.push(...output(c, st));
  }
  return { parts };
}

function output(c: ShellCommand, st: ShellState): FeedPart[] {
  const prog = c.words[0]!;
  const args = c.words.slice(1).map((w) => w.value);
  const fn = prog.dynamic ? undefined : st.functions.get(prog.value);
  if (fn && !st.stack.includes(fn)) {
    // A function prints what its body prints, reading the call's input.
    const inner = st.sameShell();
    inner.stack = [...st.stack, fn];
    inner.fds = inputs(c, st);
    try {
      return produced(parseShell(fn.text, 0, { ...st.positional(fn, c.words.slice(1)), line: fn.line }), inner).parts;
    } catch {
      return [{ program: prog.raw }];
    }
  }
  const name = prog.dynamic ? "" : basename(prog.value);
  switch (name) {
    case "echo":
      return [{ text: echo(args) }];
    case "printf": {
      if (args[0] === "-v") return [];
      const out = printf(args[0] === "--" ? args.slice(1) : args);
      return [{ text: out }];
    }
    case "tee":
      return inputs(c, st).get(0)?.parts ?? [];
    case "cat": {
      const fds = inputs(c, st);
      const files = c.words.slice(1).filter((w) => w.value === "-" || !w.value.startsWith("-"));
      if (files.length === 0) return fds.get(0)?.parts ?? [];
      return files.flatMap((w) => (w.value === "-" ? (fds.get(0)?.parts ?? []) : (feedOfWord(w, fds, st)?.parts ?? [{ file: w.raw }])));
    }
    case "true":
    case "false":
    case ":":
      return [];
    default:
      return [{ program: [prog.raw, ...args, ...c.redirects.map((r) => r.text ?? "")].join(" ") }];
  }
}

/** bash's builtin echo: -n, -e, -E flags first; escapes only with -e (xpg_echo is off). */
function echo(args: string[]): string {
  let newline = true;
  let escapes = false;
  let k = 0;
  for (; k < args.length && /^-[neE]+$/.test(args[k]!); k++) {
    if (args[k]!.includes("n")) newline = false;
    escapes = /e[^E]*$/.test(args[k]!) || (escapes && !args[k]!.includes("E"));
  }
  let text = args.slice(k).join(" ");
  if (escapes) {
    const stop = text.indexOf("\\c");
    if (stop >= 0) return decodeAnsiC(text.slice(0, stop));
    text = decodeAnsiC(text.replace(/\\0([0-7]{1,3})/g, "\\$1"));
  }
  return newline ? text + "\n" : text;
}

/** bash's builtin printf, enough for the text it prints: %s %b %q %c %d…, escapes, the format reused for extra arguments. */
function printf(args: string[]): string {
  const format = args[0];
  if (format === undefined) return "";
  const rest = args.slice(1);
  const fmt = decodeAnsiC(format);
  let out = "";
  let k = 0;
  do {
    const before = k;
    out += fmt.replace(
      /%(%|[-+ #0]*(?:[0-9]+|\*)?(?:\.([0-9]+|\*))?([sbqcdiouxXfeEgGaA]))/g,
      (_m, all: string, prec: string | undefined, conv: string | undefined) => {
        if (all === "%") return "%";
        const arg = rest[k++] ?? "";
        if (conv === "b") return decodeAnsiC(arg);
        if (conv === "c") return arg.slice(0, 1);
        if (conv === "s" || conv === "q") return prec && prec !== "*" ? arg.slice(0, Number(prec)) : arg;
        return arg.includes(DYN) ? DYN : arg || "0";
      },
    );
    if (k === before) break;
  } while (k < rest.length);
  return out;
}

/** A feed as a script for a shell: its known text, each opaque part a line break; and the programs whose output is in it. */
export function feedScript(feed: Feed): { text: string; programs: string[]; files: number } {
  let text = "";
  const programs: string[] = [];
  let files = 0;
  for (const p of feed.parts) {
    if ("text" in p) text += p.text;
    else {
      text += "\n";
      if ("program" in p) programs.push(p.program);
      else files++;
    }
  }
  return { text, programs, files };
}
