// The expansions inside a shell word, for the parser (lex.ts: tokens and words;
// parse.ts: the grammar): double quotes, $'…', $var, ${…}, $(…), $((…)), backticks.
// A command substitution is parsed in place through the grammar's parseList, as bash does;
// backtick bodies and unquoted here-document bodies get a child parser. Also the types.
import { decodeAnsiC } from "./expand.ts";

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
}

export interface ShellRedirect {
  op: string; // < > >> >| <> <& >& &> &>> << <<- <<<
  target: ShellWord; // for << and <<-: the delimiter
  body?: string; // here-document text
}

export interface ShellCommand {
  /** Program first. Leading NAME=value assignments are in `assigns`, not here. */
  words: ShellWord[];
  assigns: ShellWord[];
  redirects: ShellRedirect[];
  /** The commands of the previous pipeline stage, whose output is this command's stdin. */
  upstream?: ShellCommand[];
}

export class ShellSyntaxError extends Error {
  override name = "ShellSyntaxError";
}

export const DYN = "\u0000";
const MAX_DEPTH = 24;
const MAX_NESTING = 200;

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

export abstract class ShellScanner {
  readonly out: ShellCommand[] = [];
  protected i = 0;
  private nest = 0;

  constructor(
    protected readonly s: string,
    protected readonly depth: number,
  ) {
    if (depth > MAX_DEPTH) throw new ShellSyntaxError("commands nested too deeply");
  }

  /** The grammar: commands up to `close`, a case terminator, or the end (see parse.ts). */
  protected abstract parseList(close: ")" | null, stopWords: Set<string> | undefined): string;
  /** A parser for a nested script (backticks, here-document bodies, brace-expansion variants). */
  protected abstract child(text: string): ShellScanner;

  protected fail(what: string): never {
    throw new ShellSyntaxError(`${what} at offset ${this.i}`);
  }

  /** Unquoted here-document body: like double-quoted text without the closing quote. */
  protected scanExpansions(): void {
    const acc = newAcc();
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === "\\") this.i += 2;
      else if (c === "$") this.readDollar(acc, true);
      else if (c === "`") this.readBacktick(acc, true);
      else this.i++;
    }
  }

  // ---- words ---------------------------------------------------------------------------

  protected readDq(acc: Acc): void {
    const s = this.s;
    this.i++;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) this.fail('unterminated " quote');
      if (c === '"') {
        this.i++;
        return;
      }
      if (c === "\\") {
        const n = s[this.i + 1];
        if (n === "\n") this.i += 2;
        else if (n === "$" || n === "`" || n === '"' || n === "\\") {
          lit(acc, n);
          this.i += 2;
        } else {
          lit(acc, "\\");
          this.i++;
        }
      } else if (c === "$") this.readDollar(acc, true);
      else if (c === "`") this.readBacktick(acc, true);
      else {
        lit(acc, c);
        this.i++;
      }
    }
  }

  protected readDollar(acc: Acc, inDq: boolean): void {
    this.deeper(() => this.readExpansion(acc, inDq));
  }

  private readExpansion(acc: Acc, inDq: boolean): void {
    const s = this.s;
    const n = s[this.i + 1];
    if (n === "'" && !inDq) {
      let k = this.i + 2;
      while (k < s.length && s[k] !== "'") k += s[k] === "\\" ? 2 : 1;
      if (k >= s.length) this.fail("unterminated $' quote");
      lit(acc, decodeAnsiC(s.slice(this.i + 2, k)));
      this.i = k + 1;
    } else if (n === '"' && !inDq) {
      this.i++;
      this.readDq(acc);
    } else if (n === "(") {
      if (!(s[this.i + 2] === "(" && this.scanArith(this.i + 3))) {
        this.i += 2;
        this.parseList(")", undefined);
      }
      unknown(acc, !inDq);
    } else if (n === "{") {
      const start = this.i + 2;
      this.i += 2;
      this.skipParam();
      // "${arr[@]}" and "${!prefix@}" are several words even inside double quotes.
      unknown(acc, !inDq || /^[@!]|\[@\]/.test(s.slice(start, this.i - 1)));
    } else if (n !== undefined && /[A-Za-z_]/.test(n)) {
      this.i += 2;
      while (this.i < s.length && /[A-Za-z0-9_]/.test(s[this.i]!)) this.i++;
      unknown(acc, !inDq);
    } else if (n !== undefined && /[0-9@*#?$!-]/.test(n)) {
      this.i += 2;
      unknown(acc, !inDq || n === "@"); // "$@" is several words even inside double quotes
    } else {
      lit(acc, "$");
      this.i++;
    }
  }

  /** After `((`: arithmetic up to the matching `))`. Restores the position and answers false if it is not arithmetic. */
  protected scanArith(from: number): boolean {
    const save = this.i;
    const s = this.s;
    const junk = newAcc();
    this.i = from;
    let depth = 0;
    try {
      while (this.i < s.length) {
        const c = s[this.i];
        if (c === "(") depth++;
        else if (c === ")") {
          if (depth > 0) depth--;
          else if (s[this.i + 1] === ")") {
            this.i += 2;
            return true;
          } else break;
        } else if (c === "$") {
          this.readDollar(junk, true);
          continue;
        } else if (c === "`") {
          this.readBacktick(junk, true);
          continue;
        } else if (c === '"') {
          this.readDq(junk);
          continue;
        } else if (c === "'") {
          break;
        }
        this.i++;
      }
    } catch (err) {
      if (!(err instanceof ShellSyntaxError)) throw err;
      // not arithmetic after all: the caller reparses it as commands, which reports real errors
    }
    this.i = save;
    return false;
  }

  protected skipParam(): void {
    const s = this.s;
    const junk = newAcc();
    for (;;) {
      const c = s[this.i];
      if (c === undefined) this.fail("unterminated ${");
      if (c === "}") {
        this.i++;
        return;
      }
      if (c === "\\") this.i += 2;
      else if (c === "'") {
        const end = s.indexOf("'", this.i + 1);
        if (end < 0) this.fail("unterminated ' quote");
        this.i = end + 1;
      } else if (c === '"') this.readDq(junk);
      else if (c === "$") this.readDollar(junk, true);
      else if (c === "`") this.readBacktick(junk, true);
      else this.i++;
    }
  }

  protected readBacktick(acc: Acc, inDq: boolean): void {
    const s = this.s;
    let body = "";
    this.i++;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) this.fail("unterminated ` quote");
      if (c === "`") break;
      const n = s[this.i + 1];
      if (c === "\\" && (n === "`" || n === "\\" || n === "$" || (inDq && n === '"'))) {
        body += n;
        this.i += 2;
      } else {
        body += c;
        this.i++;
      }
    }
    this.i++;
    const sub = this.child(body);
    sub.parseList(null, undefined);
    this.out.push(...sub.out);
    unknown(acc, !inDq);
  }

  /** `$(` or `<(`: a full command list up to its `)`, parsed in place like bash does. */
  protected nested(close: ")"): void {
    // Only lex() gets here, and only with no token buffered: the inner list ends on its ")".
    this.deeper(() => this.parseList(close, undefined));
  }

  /** Runs a nested read (subshell, $( ), ${ }): past MAX_NESTING levels, stop instead of overflowing the stack. */
  protected deeper<T>(read: () => T): T {
    if (++this.nest > MAX_NESTING) this.fail("commands nested too deeply");
    const result = read();
    this.nest--;
    return result;
  }
}

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
