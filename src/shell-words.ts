// A small parser for the POSIX-ish shell that Claude Code's Bash tool runs (bash), just deep
// enough to list every simple command that could execute. Used by the guard; pure and fast.
//
// parseShell(text) → ShellCommand[] in execution order: command substitutions ($(…), `…`,
// <(…), also inside double quotes, ${…} and unquoted here-documents) come before the command
// that contains them. Words are quote-removed; an expansion whose value is only known at run
// time ($x, $(…), a glob) makes the word `dynamic`, with a regex `pattern` of what it may be.
// Compound syntax (if/while/for/case/{ }/( )/functions/[[ ]]/(( ))) is flattened: reserved
// words are skipped, the commands inside are listed, header words (for/case/[[) are dropped.
// Anything bash would not parse the same way throws ShellSyntaxError (callers fail closed).
import { expandBraces, decodeAnsiC } from "./shell-expand.ts";

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

type Token =
  | { t: "w"; words: ShellWord[]; raw: string }
  | { t: "op"; op: string }
  | { t: "redir"; redir: ShellRedirect }
  | { t: "eof" };

interface Acc {
  v: string;
  p: string;
  d: boolean;
  s: boolean;
}

const RESERVED_SKIP = new Set(["!", "if", "then", "else", "elif", "do", "while", "until", "{", "coproc", "time"]);
const RESERVED_END = new Set(["fi", "done", "}", "esac"]);
const ESAC = new Set(["esac"]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;
const ARRAY_START = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=$/;
const RE_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

export function parseShell(text: string, depth = 0): ShellCommand[] {
  const p = new Parser(text, depth);
  p.parseList(null, undefined);
  return p.out;
}

function escapeRe(s: string): string {
  return s.replace(RE_SPECIAL, "\\$&");
}

class Parser {
  readonly out: ShellCommand[] = [];
  private i = 0;
  private buf: Token | null = null;
  private pending: { redir: ShellRedirect; delim: string; strip: boolean; quoted: boolean }[] = [];
  private nest = 0;

  constructor(
    private readonly s: string,
    private readonly depth: number,
  ) {
    if (depth > MAX_DEPTH) throw new ShellSyntaxError("commands nested too deeply");
  }

  private fail(what: string): never {
    throw new ShellSyntaxError(`${what} at offset ${this.i}`);
  }

  // ---- grammar -------------------------------------------------------------------------

  /** Parses commands until `close` (")"), a case terminator (;;) or `esac`, or the end. */
  parseList(close: ")" | null, stopWords: Set<string> | undefined): string {
    for (;;) {
      const tok = this.peek();
      if (tok.t === "eof") {
        if (close) this.fail("unterminated ( or $(");
        return "eof";
      }
      if (tok.t === "op") {
        const op = tok.op;
        if (op === "\n" || op === ";" || op === "&") {
          this.buf = null;
          continue;
        }
        if (op === ")" && close === ")") {
          this.buf = null;
          return ")";
        }
        if ((op === ";;" || op === ";&" || op === ";;&") && stopWords) {
          this.buf = null;
          return ";;";
        }
        if (op !== "(") this.fail(`unexpected "${op === "\n" ? "newline" : op}"`);
      }
      if (tok.t === "w" && stopWords && stopWords.has(tok.raw)) return tok.raw;
      this.parsePipeline();
    }
  }

  private parsePipeline(): void {
    let prev: ShellCommand[] | undefined;
    for (;;) {
      const start = this.out.length;
      this.parseCommand();
      if (prev) for (let k = start; k < this.out.length; k++) this.out[k]!.upstream ??= prev;
      const tok = this.peek();
      if (tok.t !== "op") return;
      if (tok.op === "|" || tok.op === "|&") prev = this.out.slice(start);
      else if (tok.op === "&&" || tok.op === "||") prev = undefined;
      else return;
      this.buf = null;
      this.skipNewlines();
    }
  }

  private skipNewlines(): void {
    for (let tok = this.peek(); tok.t === "op" && tok.op === "\n"; tok = this.peek()) this.buf = null;
  }

  private parseCommand(): void {
    const first = this.peek();
    if (first.t === "op" && first.op === "(") {
      this.buf = null;
      if (!(this.s[this.i] === "(" && this.scanArith(this.i + 1))) this.parseList(")", undefined);
      this.parseSimple(true);
      return;
    }
    if (first.t === "w" && first.words.length === 1) {
      const r = first.raw;
      if (RESERVED_SKIP.has(r)) {
        this.buf = null;
        const next = this.peek();
        if (r === "time" && next.t === "w" && next.raw === "-p") this.buf = null;
        return; // the list loop parses what follows as a command of its own
      }
      if (RESERVED_END.has(r)) {
        this.buf = null;
        this.parseSimple(true);
        return;
      }
      if (r === "case") return this.parseCase();
      if (r === "for" || r === "select") {
        this.buf = null;
        const next = this.peek();
        if (next.t === "op" && next.op === "(") {
          this.buf = null;
          if (this.s[this.i] !== "(" || !this.scanArith(this.i + 1)) this.fail("bad for (( ))");
        }
        // `for NAME in WORDS`: data, except substitutions, which the lexer already listed.
        for (let tok = this.peek(); tok.t === "w"; tok = this.peek()) this.buf = null;
        return;
      }
      if (r === "[[") {
        this.buf = null;
        for (let tok = this.peek(); !(tok.t === "w" && tok.raw === "]]"); tok = this.peek()) {
          if (tok.t === "eof") this.fail("unterminated [[");
          this.buf = null;
        }
        this.buf = null;
        return;
      }
      if (r === "function") {
        this.buf = null;
        if (this.next().t !== "w") this.fail("function without a name");
        this.skipParens();
        return;
      }
    }
    this.parseSimple(false);
  }

  /** `name ( )` of a function definition; the body follows as ordinary commands. */
  private skipParens(): boolean {
    const tok = this.peek();
    if (tok.t !== "op" || tok.op !== "(") return false;
    this.buf = null;
    const close = this.next();
    if (close.t !== "op" || close.op !== ")") this.fail('expected ")" in a function definition');
    return true;
  }

  private parseSimple(redirectsOnly: boolean): void {
    const cmd: ShellCommand = { words: [], assigns: [], redirects: [] };
    for (;;) {
      const tok = this.peek();
      if (tok.t === "redir") {
        cmd.redirects.push(tok.redir);
        this.buf = null;
      } else if (tok.t === "w" && !redirectsOnly) {
        this.buf = null;
        if (cmd.words.length === 0 && ASSIGNMENT.test(tok.raw)) cmd.assigns.push(...tok.words);
        else {
          cmd.words.push(...tok.words);
          // `name ( )`: a function definition, not a command; its body follows as commands.
          if (cmd.words.length === tok.words.length && cmd.assigns.length === 0 && this.skipParens()) return;
        }
      } else break;
    }
    if (cmd.words.length + cmd.assigns.length + cmd.redirects.length > 0) this.out.push(cmd);
  }

  private parseCase(): void {
    this.buf = null;
    if (this.next().t !== "w") this.fail("case without a word");
    this.skipNewlines();
    const kw = this.next();
    if (kw.t !== "w" || kw.raw !== "in") this.fail('expected "in" after case WORD');
    for (;;) {
      this.skipNewlines();
      let tok = this.next();
      if (tok.t === "w" && tok.raw === "esac") return this.parseSimple(true);
      if (tok.t === "op" && tok.op === "(") tok = this.next();
      for (;;) {
        if (tok.t !== "w") this.fail("bad case pattern");
        const sep = this.next();
        if (sep.t === "op" && sep.op === ")") break;
        if (sep.t !== "op" || sep.op !== "|") this.fail('expected ")" after a case pattern');
        tok = this.next();
      }
      const end = this.parseList(null, ESAC);
      if (end === "eof") this.fail("unterminated case");
    }
  }

  // ---- tokens --------------------------------------------------------------------------

  private peek(): Token {
    return (this.buf ??= this.lex());
  }

  private next(): Token {
    const tok = this.peek();
    this.buf = null;
    return tok;
  }

  private lex(): Token {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === " " || c === "\t" || c === "\r") this.i++;
      else if (c === "\\" && s[this.i + 1] === "\n") this.i += 2;
      else if (c === "#") {
        const nl = s.indexOf("\n", this.i);
        this.i = nl < 0 ? s.length : nl;
      } else break;
    }
    if (this.i >= s.length) return { t: "eof" };
    const c = s[this.i]!;
    const two = s.slice(this.i, this.i + 2);
    if (c === "\n") {
      this.i++;
      this.readHeredocs();
      return { t: "op", op: "\n" };
    }
    if (c === ";") {
      const op = s.startsWith(";;&", this.i) ? ";;&" : two === ";;" || two === ";&" ? two : ";";
      this.i += op.length;
      return { t: "op", op };
    }
    if (c === "&" && s[this.i + 1] === ">") return this.readRedirect();
    if (c === "&" || c === "|") {
      const op = two === "&&" || two === "||" || two === "|&" ? two : c;
      this.i += op.length;
      return { t: "op", op };
    }
    if (c === "(" || c === ")") {
      this.i++;
      return { t: "op", op: c };
    }
    if ((c === "<" || c === ">") && s[this.i + 1] !== "(") return this.readRedirect();
    const fd = /^(?:[0-9]+|\{[A-Za-z_][A-Za-z0-9_]*\})[<>]/.exec(s.slice(this.i, this.i + 40));
    if (fd && !(fd[0].endsWith("<") && s[this.i + fd[0].length] === "(")) {
      this.i += fd[0].length - 1;
      return this.readRedirect();
    }
    return this.readWordToken();
  }

  private readRedirect(): Token {
    const m = /^(?:<<<|<<-|<<|<>|<&|<|>>|>\||>&|>|&>>|&>)/.exec(this.s.slice(this.i, this.i + 3))!;
    const op = m[0];
    this.i += op.length;
    while (this.s[this.i] === " " || this.s[this.i] === "\t") this.i++;
    if (op === "<<" || op === "<<-") return this.readHeredocStart(op);
    const tok = this.peekWordStart() ? this.readWordToken() : null;
    if (!tok) this.fail(`missing file name after "${op}"`);
    const redir: ShellRedirect = { op, target: tok.words[0]! };
    return { t: "redir", redir };
  }

  private peekWordStart(): boolean {
    const c = this.s[this.i];
    return c !== undefined && !" \t\n;&|()".includes(c) && !((c === "<" || c === ">") && this.s[this.i + 1] !== "(");
  }

  /** The delimiter is quote-removed but never expanded; any quoting makes the body literal. */
  private readHeredocStart(op: string): Token {
    const s = this.s;
    const start = this.i;
    let delim = "";
    let quoted = false;
    while (this.i < s.length && !" \t\n;&|()<>".includes(s[this.i]!)) {
      const c = s[this.i]!;
      if (c === "'" || c === '"') {
        const end = s.indexOf(c, this.i + 1);
        if (end < 0) this.fail(`unterminated ${c} quote`);
        delim += s.slice(this.i + 1, end);
        quoted = true;
        this.i = end + 1;
      } else if (c === "\\") {
        delim += s[this.i + 1] ?? "";
        quoted = true;
        this.i += 2;
      } else {
        delim += c;
        this.i++;
      }
    }
    if (this.i === start) this.fail(`missing delimiter after "${op}"`);
    const raw = s.slice(start, this.i);
    const target: ShellWord = { value: delim, raw, dynamic: false, split: false, pattern: escapeRe(delim) };
    const redir: ShellRedirect = { op, target, body: "" };
    this.pending.push({ redir, delim, strip: op === "<<-", quoted });
    return { t: "redir", redir };
  }

  /** Bodies start after the newline that ends the line holding their `<<`. */
  private readHeredocs(): void {
    const s = this.s;
    for (const h of this.pending.splice(0)) {
      let body = "";
      while (this.i < s.length) {
        const nl = s.indexOf("\n", this.i);
        const end = nl < 0 ? s.length : nl;
        const line = s.slice(this.i, end);
        this.i = nl < 0 ? s.length : nl + 1;
        if ((h.strip ? line.replace(/^\t+/, "") : line) === h.delim) break;
        body += line + "\n"; // a missing delimiter ends the body at the end (bash only warns)
      }
      h.redir.body = body;
      if (!h.quoted) {
        const sub = new Parser(body, this.depth + 1);
        sub.scanExpansions();
        this.out.push(...sub.out);
      }
    }
  }

  /** Unquoted here-document body: like double-quoted text without the closing quote. */
  private scanExpansions(): void {
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

  private readWordToken(): { t: "w"; words: ShellWord[]; raw: string } {
    const start = this.i;
    const acc = newAcc();
    let braces = false;
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) break;
      if ((c === "<" || c === ">") && s[this.i + 1] === "(" && this.i === start) {
        this.i += 2;
        this.nested(")");
        unknown(acc, false);
        continue;
      }
      if (c === "(" && ARRAY_START.test(s.slice(start, this.i))) {
        this.readArray(acc);
        continue;
      }
      if (" \t\n;&|()<>".includes(c)) break;
      if (c === "\\") {
        if (s[this.i + 1] === "\n") this.i += 2;
        else {
          lit(acc, s[this.i + 1] ?? "\\");
          this.i += 2;
        }
      } else if (c === "'") {
        const end = s.indexOf("'", this.i + 1);
        if (end < 0) this.fail("unterminated ' quote");
        lit(acc, s.slice(this.i + 1, end));
        this.i = end + 1;
      } else if (c === '"') this.readDq(acc);
      else if (c === "$") this.readDollar(acc, false);
      else if (c === "`") this.readBacktick(acc, false);
      else if (c === "*" || c === "?") {
        acc.v += c;
        acc.p += c === "*" ? "[^]*" : "[^]";
        acc.d = true;
        this.i++;
      } else if (c === "[" && this.globClass(acc)) {
        // consumed
      } else {
        if (c === "{") braces = true;
        lit(acc, c);
        this.i++;
      }
    }
    const raw = s.slice(start, this.i);
    const word: ShellWord = { value: acc.v, raw, dynamic: acc.d, split: acc.s, pattern: acc.p };
    if (braces) {
      const variants = expandBraces(raw);
      if (variants.length > 1) return { t: "w", words: variants.map((v) => this.decodeVariant(v, word)), raw };
    }
    return { t: "w", words: [word], raw };
  }

  /** One brace-expansion result, decoded on its own (its substitutions were already listed). */
  private decodeVariant(text: string, whole: ShellWord): ShellWord {
    const tok = new Parser(text, this.depth + 1).lex();
    return tok.t === "w" && tok.words.length === 1 && tok.raw === text ? tok.words[0]! : { ...whole, dynamic: true, split: true, pattern: "[^]*" };
  }

  private globClass(acc: Acc): boolean {
    const s = this.s;
    let k = this.i + 1;
    while (k < s.length && !" \t\n;&|()<>]".includes(s[k]!)) k++;
    if (s[k] !== "]" || k === this.i + 1) return false;
    acc.v += s.slice(this.i, k + 1);
    acc.p += "[^]*"; // wider than one character: the value keeps the whole [...] text
    acc.d = true;
    this.i = k + 1;
    return true;
  }

  /** `name=( a b "$(c)" )`: an array assignment; its elements are words. */
  private readArray(acc: Acc): void {
    this.i++;
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) this.fail("unterminated array (");
      if (c === " " || c === "\t" || c === "\n") this.i++;
      else if (c === ")") break;
      else if (c === "#") while (this.i < this.s.length && this.s[this.i] !== "\n") this.i++;
      else if (!this.peekWordStart()) this.fail(`unexpected "${c}" in an array`);
      else this.readWordToken();
    }
    this.i++;
    unknown(acc, false);
  }

  private readDq(acc: Acc): void {
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

  private readDollar(acc: Acc, inDq: boolean): void {
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
        this.nested(")");
      }
      unknown(acc, !inDq);
    } else if (n === "{") {
      this.i += 2;
      this.skipParam();
      unknown(acc, !inDq);
    } else if (n !== undefined && /[A-Za-z_]/.test(n)) {
      this.i += 2;
      while (this.i < s.length && /[A-Za-z0-9_]/.test(s[this.i]!)) this.i++;
      unknown(acc, !inDq);
    } else if (n !== undefined && /[0-9@*#?$!-]/.test(n)) {
      this.i += 2;
      unknown(acc, !inDq);
    } else {
      lit(acc, "$");
      this.i++;
    }
  }

  /** After `((`: arithmetic up to the matching `))`. Restores the position and answers false if it is not arithmetic. */
  private scanArith(from: number): boolean {
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

  private skipParam(): void {
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

  private readBacktick(acc: Acc, inDq: boolean): void {
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
    this.out.push(...parseShell(body, this.depth + 1));
    unknown(acc, !inDq);
  }

  /** `$(` or `<(`: a full command list up to its `)`, parsed in place like bash does. */
  private nested(close: ")"): void {
    if (++this.nest > 100) this.fail("commands nested too deeply");
    const saved = this.buf;
    this.buf = null;
    this.parseList(close, undefined);
    this.buf = saved;
    this.nest--;
  }
}

function newAcc(): Acc {
  return { v: "", p: "", d: false, s: false };
}

function lit(acc: Acc, text: string): void {
  acc.v += text;
  acc.p += escapeRe(text);
}

function unknown(acc: Acc, unquoted: boolean): void {
  acc.v += DYN;
  acc.p += "[^]*";
  acc.d = true;
  if (unquoted) acc.s = true;
}
