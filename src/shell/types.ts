// The shell parser's types (what parse.ts lists) and the accumulator of a word being read.

export interface ShellWord {
  /** Quote-removed text; every unknown expansion contributes one DYN character. */
  value: string;
  /** The source text, for messages. */
  raw: string;
  /** Contains an expansion or an unquoted glob: the run-time value is unknown. */
  dynamic: boolean;
  /** Contains an unquoted expansion: may become several words (or none) at run time. */
  split: boolean;
  /** Regex source (unanchored) of what the word may expand to; `[^]*` for each unknown part. */
  pattern: string;
  /** For a word that is one process substitution `<(…)`: the commands whose output it names. */
  procsub?: ShellCommand[];
}

export interface ShellRedirect {
  op: string; // < > >> >| <> <& >& &> &>> << <<- <<<
  target: ShellWord; // for << and <<-: the delimiter
  /** The file descriptor written before the operator (`3<<<x`), when one is. */
  fd?: number;
  body?: string; // here-document text
  /** The here-document body as the command reads it: expansions of an unquoted one are DYN. */
  text?: string;
}

/** Code bash evaluates inside an expansion, beyond $( ) and backticks (listed as commands). */
export type ShellEval =
  /** Names read in arithmetic ($(( )), (( )), subscripts, ${x:off}): their values are evaluated too. */
  | { kind: "arith"; names: string[] }
  /** ${x@P}: the value of x is expanded like a prompt, command substitutions included. */
  | { kind: "prompt"; name: string }
  /** ${!x}: the value of x names a variable, whose subscript is expanded. */
  | { kind: "indirect"; name: string };

export interface ShellFunction {
  name: string;
  /** The body's source (`{ …; }`), parsed again at each call with the call's arguments. */
  text: string;
}

export interface ShellCommand {
  /** Program first. Leading NAME=value assignments are in `assigns`, not here. */
  words: ShellWord[];
  assigns: ShellWord[];
  redirects: ShellRedirect[];
  /** The commands of the previous pipeline stage, whose output is this command's stdin. */
  upstream?: ShellCommand[];
  /** Index of the top-level complete command (line) it belongs to: aliases apply to later ones. */
  line?: number;
  /** How many $( ), backticks, <( ) or here-documents it runs inside: its output goes there, not to the enclosing pipe. */
  subst?: number;
  /** A function definition (no words): the body runs where the function is called. */
  fn?: ShellFunction;
  /** Evaluations found in words (no words of its own). */
  evals?: ShellEval[];
  /** Started by `coproc` or inside `>(…)`: its stdin is a pipe the rest of the command writes to. */
  coproc?: boolean;
}

/** What a parse may know from outside the text: a function's arguments, the line to stamp. */
export interface ParseOptions {
  /** $1, $2…, "$@", $#, $*: known when the text is a function body called with these words. */
  positional?: ShellWord[];
  /** Stamp every command with this line (a function body keeps the line it was defined on). */
  line?: number;
}

export class ShellSyntaxError extends Error {
  override name = "ShellSyntaxError";
}

export const DYN = "\u0000";

export type Token =
  | { t: "w"; words: ShellWord[]; raw: string }
  | { t: "op"; op: string }
  | { t: "redir"; redir: ShellRedirect }
  | { t: "eof" };

/** A word being read: value, regex pattern (null until some part is unknown), dynamic, split, wildcards. */
export interface Acc {
  v: string;
  p: string | null;
  d: boolean;
  s: boolean;
  n: number;
}

export const ANYTHING = "[^]*";

export function newAcc(): Acc {
  return { v: "", p: null, d: false, s: false, n: 0 };
}

export function lit(acc: Acc, text: string): void {
  acc.v += text;
  if (acc.p !== null && acc.n < MAX_WILDCARDS) acc.p += escapeRe(text);
}

export function unknown(acc: Acc, unquoted: boolean): void {
  wildcard(acc, DYN, ANYTHING);
  if (unquoted) acc.s = true;
}

const MAX_WILDCARDS = 6;

/** Appends a part whose run-time text is unknown: `shown` to the value, `regex` to the pattern. */
export function wildcard(acc: Acc, shown: string, regex: string): void {
  acc.v += shown;
  acc.d = true;
  if (acc.n === MAX_WILDCARDS) return; // already "anything"
  // Many wildcards in one regex (`$a/$b/$c/…`) could backtrack for ages: past a few, the
  // word may be anything. The pattern is built only once a word turns dynamic: most never do.
  if (++acc.n === MAX_WILDCARDS) acc.p = ANYTHING;
  else if (acc.p === null) acc.p = escapeRe(acc.v.slice(0, acc.v.length - shown.length)) + regex;
  else if (!(regex === ANYTHING && acc.p.endsWith(ANYTHING))) acc.p += regex;
}

const RE_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;
const RE_SPECIAL_CHARS = "\\^$.*+?()[]{}|/";

export function escapeRe(s: string): string {
  if (s.length === 1) return RE_SPECIAL_CHARS.includes(s) ? "\\" + s : s;
  return s.replace(RE_SPECIAL, "\\$&");
}
