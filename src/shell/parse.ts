// A small parser for the POSIX-ish shell that Claude Code's Bash tool runs (bash), just deep
// enough to list every simple command that could execute. Used by the guard; pure and fast.
//
// parseShell(text) → ShellCommand[] in execution order: command substitutions ($(…), `…`,
// <(…), also inside double quotes, ${…} and unquoted here-documents) come before the command
// that contains them. Words are quote-removed; an expansion whose value is only known at run
// time ($x, $(…), a glob) makes the word `dynamic`, with a regex `pattern` of what it may be.
// Compound syntax (if/while/for/case/{ }/( )/functions/[[ ]]/(( ))) is flattened: reserved
// words are skipped, the commands inside are listed, header words (for/case/[[) are dropped.
// Unterminated quotes, substitutions and subshells throw ShellSyntaxError (callers fail
// closed); the balance of if/fi, do/done, { } is not checked: every command inside is listed.
// The grammar is here; tokens and words (quotes, expansions, here-documents) are in lex.ts.
import { ShellLexer, type ShellCommand } from "./lex.ts";

export { DYN, ShellSyntaxError, type ShellCommand, type ShellRedirect, type ShellWord } from "./lex.ts";

const RESERVED_SKIP = new Set(["!", "if", "then", "else", "elif", "do", "while", "until", "{", "coproc", "time"]);
const RESERVED_END = new Set(["fi", "done", "}", "esac"]);
const ESAC = new Set(["esac"]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

export function parseShell(text: string, depth = 0): ShellCommand[] {
  const p = new Parser(text, depth);
  p.parseList(null, undefined);
  return p.out;
}

class Parser extends ShellLexer {
  protected override child(text: string): ShellLexer {
    return new Parser(text, this.depth + 1);
  }

  /** Parses commands until `close` (")"), a case terminator (;;) or `esac`, or the end. */
  override parseList(close: ")" | null, stopWords: Set<string> | undefined): string {
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
      if (!(this.at() === "(" && this.scanArith(this.i + 1))) this.nested(")");
      this.parseSimple(true);
      return;
    }
    if (first.t === "w" && first.words.length === 1) {
      const r = first.raw;
      if (RESERVED_SKIP.has(r)) {
        this.buf = null;
        const next = this.peek();
        if (r === "time" && next.t === "w" && next.raw === "-p") this.buf = null;
        // `coproc NAME { …; }`: NAME names the coprocess; the group after it is the command.
        if (r === "coproc" && next.t === "w" && /^[ \t]*[({]/.test(this.ahead(16))) this.buf = null;
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
          if (this.at() !== "(" || !this.scanArith(this.i + 1)) this.fail("bad for (( ))");
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
}
