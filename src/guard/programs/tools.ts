// Programs that run a command string taken from their arguments or from text in the command,
// beyond the wrappers of programs.ts: sed (`e`, `s///e`), make (recipes, $(shell), a makefile
// given as text), editors in batch mode (vim/ex/ed `!cmd`, system()), gdb (shell, !, python,
// run), tar (--checkpoint-action=exec, --to-command, -I…), ssh (ProxyCommand, LocalCommand…).
import { ShellSyntaxError, type ShellCommand, type ShellWord } from "../../shell/parse.ts";
import { checkCode, judgeLiterals } from "./code.ts";
import { feedOfWord, feedScript, inputs, type Feed } from "../feeds.ts";
import type { Checker, Deny } from "../git.ts";
import { sedProgram, sedRun } from "./sed.ts";
import { basename } from "../programs.ts";
import type { ShellState } from "../state.ts";

export const EDITORS = new Set(["vi", "vim", "view", "ex", "nvim", "vimdiff", "gvim", "evim", "ed"]);

type Run = (c: Checker, ws: ShellWord[], cmd: ShellCommand, depth: number, st: ShellState) => Deny | undefined;

/** A script string run by /bin/sh -c: parsed as a script; if it does not parse, the word check. */
export function shellString(c: Checker, text: string, where: string, depth: number, st: ShellState): Deny | undefined {
  let d: Deny | undefined;
  try {
    d = c.script(text, depth + 1, true, st.newProcess(false));
  } catch (err) {
    if (!(err instanceof ShellSyntaxError)) throw err;
    return c.code(text, where, where);
  }
  return d ? { ...d, note: d.note ?? `run by ${where}` } : undefined;
}

function feedText(feed: Feed | undefined): string {
  return feed ? feedScript(feed).text : "";
}

const sed: Run = (c, ws, cmd, depth, st) => {
  const prog = sedProgram(ws, inputs(cmd, st), st);
  if (!prog) return undefined;
  for (const text of sedRun(prog, () => feedText(inputs(cmd, st).get(0)))) {
    const d = shellString(c, text, "sed e", depth, st);
    if (d) return d;
  }
  return undefined;
};

const make: Run = (c, ws, cmd, depth, st) => {
  const fds = inputs(cmd, st);
  const texts: string[] = [];
  for (let i = 1; i < ws.length; i++) {
    const v = ws[i]!.value;
    let file: ShellWord | undefined;
    if (v === "-f" || v === "--file" || v === "--makefile") file = ws[++i];
    else if (/^-f./.test(v)) file = { ...ws[i]!, value: v.slice(2) };
    else if (/^--(?:file|makefile)=/.test(v)) file = { ...ws[i]!, value: v.slice(v.indexOf("=") + 1) };
    else if (v === "-E" || v === "--eval") texts.push(ws[++i]?.value ?? "");
    else if (v.startsWith("--eval=")) texts.push(v.slice(7));
    if (!file) continue;
    const feed = file.value === "-" ? fds.get(0) : feedOfWord(file, fds, st);
    if (feed) texts.push(feedText(feed));
  }
  for (const text of texts) {
    for (const recipe of makeCommands(text)) {
      const d = shellString(c, recipe, "make", depth, st);
      if (d) return d;
    }
  }
  return undefined;
};

/** Shell commands of a makefile: recipe lines, `target: ; cmd`, $(shell …), `VAR != cmd`. Make variables become unknown values. */
export function makeCommands(text: string): string[] {
  const out: string[] = [];
  const toShell = (s: string) =>
    s
      .replace(/\$\$/g, "\u0001")
      .replace(/\$(?:\([^)]*\)|\{[^}]*\}|.)/g, "$UNKNOWN_VALUE")
      .replaceAll("\u0001", "$");
  for (const line of text.replace(/\\\n/g, " ").split("\n")) {
    for (const m of line.matchAll(/\$[({]shell\s+/g)) out.push(toShell(balanced(line, m.index! + 1).slice(m[0].length - 2)));
    if (line.startsWith("\t")) out.push(toShell(line.slice(1).replace(/^[\s@+-]+/, "")));
    else if (/^[^=#]*[^:!?+]!=/.test(line)) out.push(toShell(line.slice(line.indexOf("!=") + 2)));
    else {
      const rule = /^[^=#:\t][^=#]*?::?(?!=)[^=;#]*;(.*)$/.exec(line);
      if (rule) out.push(toShell(rule[1]!.replace(/^[\s@+-]+/, "")));
    }
  }
  return out;
}

/** `(…)` or `{…}` starting at `at`, with nesting, without its delimiters. */
function balanced(s: string, at: number): string {
  const open = s[at]!;
  const close = open === "(" ? ")" : "}";
  let depth = 0;
  for (let k = at; k < s.length; k++) {
    if (s[k] === open) depth++;
    else if (s[k] === close && --depth === 0) return s.slice(at + 1, k);
  }
  return s.slice(at + 1);
}

const editor: Run = (c, ws, cmd, depth, st) => {
  const name = basename(ws[0]!.value);
  const fds = inputs(cmd, st);
  const exMode = name === "ex" || name === "ed" || ws.some((w) => /^-[a-zA-Z]*[eE]/.test(w.value) && !w.value.startsWith("--"));
  const texts: string[] = exMode ? [feedText(fds.get(0))] : [];
  for (let i = 1; i < ws.length; i++) {
    const v = ws[i]!.value;
    if (v === "-c" || v === "--cmd") texts.push(ws[++i]?.value ?? "");
    else if (v.startsWith("+") && v.length > 1) texts.push(v.slice(1));
    else if (v === "-S" || (v === "-s" && !exMode)) texts.push(feedText(ws[i + 1] && feedOfWord(ws[++i]!, fds, st)));
  }
  for (const text of texts) {
    const d = bangCommands(c, text, name, depth, st);
    if (d) return d;
  }
  return undefined;
};

/** Ex/ed/gdb lines: what follows `!` (or `shell`) runs in a shell; system("…") and the like are judged by their literals. */
function bangCommands(c: Checker, text: string, prog: string, depth: number, st: ShellState): Deny | undefined {
  for (const line of text.split("\n")) {
    const bang = /^\s*(?:shell\s+|pipe\s+[^|]*\|)|!/.exec(line);
    const head = bang ? line.slice(0, bang.index) : line;
    if (bang) {
      const d = shellString(c, line.slice(bang.index + bang[0].length), `${prog} !`, depth, st);
      if (d) return d;
    }
    if (/\b(?:system|systemlist|job_start|jobstart|term|termopen|py\w*|perl|lua|ruby|tcl|libcall|call)\b/.test(head)) {
      const d = judgeLiterals(c, head, prog, prog, depth, st);
      if (d) return d;
    }
  }
  return undefined;
}

const gdb: Run = (c, ws, cmd, depth, st) => {
  const fds = inputs(cmd, st);
  const texts: string[] = [feedText(fds.get(0))];
  let program: ShellWord[] = [];
  for (let i = 1; i < ws.length; i++) {
    const v = ws[i]!.value.replace(/^--/, "-");
    if (v === "-ex" || v === "-eval-command" || v === "-iex" || v === "-init-eval-command") texts.push(ws[++i]?.value ?? "");
    else if (v === "-x" || v === "-command") texts.push(feedText(ws[i + 1] && feedOfWord(ws[++i]!, fds, st)));
    else if (v === "-args") {
      program = ws.slice(i + 1);
      break;
    }
  }
  for (const text of texts) {
    for (const line of text.split("\n")) {
      const m = /^\s*(python-interactive|python|pi|py)\b(.*)$/.exec(line);
      const d = m
        ? checkCode(c, "python", m[2]!, "gdb", "gdb python", depth, st)
        : /^\s*(?:run|r|start|starti)\b/.test(line) && program.length
          ? c.words(program, cmd, depth, [], st)
          : bangCommands(c, line, "gdb", depth, st);
      if (d) return d;
    }
  }
  return undefined;
};

const TAR_SCRIPTS = /^--(checkpoint-action|to-command|use-compress-program|info-script|new-volume-script|rsh-command)(?:=([\s\S]*))?$/;

const tar: Run = (c, ws, _cmd, depth, st) => {
  for (let i = 1; i < ws.length; i++) {
    const v = ws[i]!.value;
    const m = TAR_SCRIPTS.exec(v);
    let script = m ? (m[2] ?? ws[++i]?.value) : v === "-I" || v === "-F" ? ws[++i]?.value : undefined;
    if (m?.[1] === "checkpoint-action") script = script?.startsWith("exec=") ? script.slice(5) : undefined;
    const d = script === undefined ? undefined : shellString(c, script, "tar", depth, st);
    if (d) return d;
  }
  return undefined;
};

const SSH_OPTION = /^\s*(?:ProxyCommand|LocalCommand|KnownHostsCommand|RemoteCommand)\s*(?:=\s*|\s+)([\s\S]*)$/i;
const SSH_MATCH_EXEC = /^\s*Match\s.*\bexec\s+"([^"]*)"/i;

/** ssh/scp/sftp `-o ProxyCommand=…` (and the like, also in a -F config given as text) run locally through a shell; rsync -e is an ssh command line. */
const ssh: Run = (c, ws, cmd, depth, st) => {
  const rsync = basename(ws[0]!.value) === "rsync";
  const options: string[] = [];
  const scripts: string[] = [];
  for (let i = 1; i < ws.length; i++) {
    const v = ws[i]!.value;
    if (rsync) {
      if (v === "-e" || v === "--rsh") scripts.push(ws[++i]?.value ?? "");
      else if (v.startsWith("--rsh=")) scripts.push(v.slice(6));
    } else if (v === "-o") options.push(ws[++i]?.value ?? "");
    else if (v.startsWith("-o")) options.push(v.slice(2));
    else if (v === "-F") options.push(...feedText(ws[i + 1] && feedOfWord(ws[++i]!, inputs(cmd, st), st)).split("\n"));
  }
  for (const o of options) {
    const script = SSH_OPTION.exec(o)?.[1] ?? SSH_MATCH_EXEC.exec(o)?.[1];
    if (script && !/^none$/i.test(script)) scripts.push(script);
  }
  for (const script of scripts) {
    const d = shellString(c, script, basename(ws[0]!.value), depth, st);
    if (d) return d;
  }
  return undefined;
};

export const TOOLS: Record<string, Run> = { sed, make, gmake: make, gdb, tar, gtar: tar, ssh, scp: ssh, sftp: ssh, rsync: ssh };

export function toolFor(name: string): Run | undefined {
  return Object.hasOwn(TOOLS, name) ? TOOLS[name] : EDITORS.has(name) ? editor : undefined;
}
