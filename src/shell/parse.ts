// A small parser for the POSIX-ish shell that Claude Code's Bash tool runs (bash), just deep
// enough to list every simple command that could execute. Used by the guard; pure and fast.
//
// parseShell(text) → ShellCommand[] in execution order: command substitutions ($(…), `…`,
// <(…), also inside double quotes, ${…} and unquoted here-documents) come before the command
// that contains them. Words are quote-removed; an expansion whose value is only known at run
// time ($x, $(…), a glob) makes the word `dynamic`, with a regex `pattern` of what it may be.
// Compound syntax (if/while/for/case/{ }/( )/[[ ]]/(( ))) is flattened: reserved words are
// skipped, the commands inside are listed, header words (for/case) are dropped; `[[ … ]]` is
// listed as a command of its words. A function definition is listed as one `fn` entry holding
// the body's text: the body runs where the function is called (parseShell again, with the
// call's arguments as `positional`). Each command carries the index of its top-level complete
// command (`line`): bash reads and runs one at a time, which decides where aliases apply.
// Unterminated quotes, substitutions, subshells and function bodies throw ShellSyntaxError
// (callers fail closed); the balance of if/fi, do/done, { } is otherwise not checked.
// The grammar is here; tokens and words (quotes, expansions, here-documents) are in lex.ts.
import { ShellLexer, type ParseOptions, type ShellCommand } from "./lex.ts";

export * from "./types.ts";

const RESERVED_SKIP = new Set(["!", "if", "then", "else", "elif", "do", "while", "until", "{", "coproc", "time"]);
const RESERVED_END = new Set(["fi", "done", "}", "esac"]);
const ESAC = new Set(["esac"]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=/;

const OPENERS = new Set(["if", "while", "until", "{", "for", "select"]);
const CLOSERS = new Set(["fi", "done", "}"]);

export function parseShell(text: string, depth = 0, opts: ParseOptions = {}): ShellCommand[] {
  const p = new Parser(text, depth, opts);
  p.parseList(null, undefined);
  return p.out;
}

/** The command substitutions of text that bash expands like an unquoted here-document (a prompt, a subscript). */
export function parseExpansions(text: string, depth = 0): ShellCommand[] {
  const p = new Parser(text, depth, {});
  p.scanExpansions();
  return p.out;
}

class Parser extends ShellLexer {
  /** Compound commands open around the current one (if, while, for, { …). */
  private open = 0;
  /** Those compound commands: where their commands start in `out`, and the pipe they read, if one. */
  private groups: { from: number; upstream: ShellCommand[] | undefined }[] = [];
  /** The next simple command is started by `coproc`. */
  private coproc = false;
  /** The previous stage's commands while a later stage of a pipeline is parsed. */
  private stage: ShellCommand[] | undefined;
  /** Commands given the pipe of an enclosing compound command, which a pipe of their own replaces. */
  private inherited = new WeakSet<ShellCommand>();
  /** parseList calls active: 1 at the top level, where newlines end complete commands. */
  private lists = 0;

  protected override child(text: string): ShellLexer {
    return new Parser(text, this.depth + 1, this.opts.positional ? { positional: this.opts.positional } : {});
  }

  /**
   * Parses commands until `close` (")"), a case terminator (;;) or `esac`, the end, or (a
   * function body) until the compound command open at `body` closes.
   */
  override parseList(close: ")" | null, stopWords: Set<string> | undefined, body?: number): string {
    this.lists++;
    try {
      return this.parseItems(close, stopWords, body);
    } finally {
      this.lists--;
    }
  }

  private parseItems(close: ")" | null, stopWords: Set<string> | undefined, body?: number): string {
    for (;;) {
      const tok = this.peek();
      if (tok.t === "eof") {
        if (close) this.fail("unterminated ( or $(");
        if (body !== undefined) this.fail("unterminated function body");
        return "eof";
      }
      if (tok.t === "op") {
        const op = tok.op;
        if (op === "\n" || op === ";" || op === "&") {
          if (op === "\n" && this.lists === 1 && this.open === 0) this.line++;
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
      if (body !== undefined && this.open <= body) return "body";
    }
  }

  private parsePipeline(): void {
    let prev: ShellCommand[] | undefined;
    for (;;) {
      const start = this.out.length;
      this.stage = prev;
      // A compound command closing here (`{ …; } | sh`) is a stage made of everything since it opened.
      const from = this.parseCommand() ?? start;
      this.stage = undefined;
      if (prev) {
        for (let k = start; k < this.out.length; k++) {
          const c = this.out[k]!;
          if (!c.upstream || this.inherited.has(c)) c.upstream = prev;
          this.inherited.delete(c);
        }
      }
      const tok = this.peek();
      if (tok.t !== "op") return;
      if (tok.op === "|" || tok.op === "|&") prev = this.out.slice(from);
      else if (tok.op === "&&" || tok.op === "||") prev = undefined;
      else return;
      this.buf = null;
      this.skipNewlines();
    }
  }

  private skipNewlines(): void {
    for (let tok = this.peek(); tok.t === "op" && tok.op === "\n"; tok = this.peek()) this.buf = null;
  }

  /** Parses one command; for the end of a compound command, answers where its commands start. */
  private parseCommand(): number | undefined {
    const first = this.peek();
    if (first.t === "op" && first.op === "(") {
      this.buf = null;
      if (!(this.at() === "(" && this.scanArith(this.i + 1, "))"))) this.nested(")");
      this.parseSimple(true);
      return;
    }
    if (first.t === "w" && first.words.length === 1) {
      const r = first.raw;
      if (RESERVED_SKIP.has(r)) {
        if (OPENERS.has(r)) this.opened();
        this.buf = null;
        const next = this.peek();
        if (r === "time" && next.t === "w" && next.raw === "-p") this.buf = null;
        // `coproc NAME { …; }`: NAME names the coprocess; the group after it is the command.
        if (r === "coproc" && next.t === "w" && /^[ \t]*[({]/.test(this.ahead(16))) this.buf = null;
        if (r === "coproc") this.coproc = true;
        return; // the list loop parses what follows as a command of its own
      }
      if (RESERVED_END.has(r)) {
        const group = CLOSERS.has(r) ? this.closed() : undefined;
        this.buf = null;
        this.parseSimple(true);
        return group?.from;
      }
      if (r === "case") {
        this.parseCase();
        return;
      }
      if (r === "for" || r === "select") {
        this.opened();
        this.buf = null;
        const next = this.peek();
        if (next.t === "op" && next.op === "(") {
          this.buf = null;
          if (this.at() !== "(" || !this.scanArith(this.i + 1, "))")) this.fail("bad for (( ))");
        }
        // `for NAME in WORDS`: data, except substitutions, which the lexer already listed.
        for (let tok = this.peek(); tok.t === "w"; tok = this.peek()) this.buf = null;
        return;
      }
      if (r === "[[") {
        // Listed with its words: `-v NAME` and arithmetic comparisons evaluate what they are given.
        const cmd: ShellCommand = { words: [...first.words], assigns: [], redirects: [], line: this.lineOf() };
        this.buf = null;
        for (let tok = this.peek(); !(tok.t === "w" && tok.raw === "]]"); tok = this.peek()) {
          if (tok.t === "eof") this.fail("unterminated [[");
          if (tok.t === "w") cmd.words.push(...tok.words);
          this.buf = null;
        }
        cmd.words.push(...(this.next() as { words: ShellCommand["words"] }).words);
        this.out.push(cmd);
        return;
      }
      if (r === "function") {
        this.buf = null;
        const name = this.next();
        if (name.t !== "w") this.fail("function without a name");
        this.skipParens();
        this.parseFunctionBody(name.raw);
        return;
      }
    }
    this.parseSimple(false);
  }

  private opened(): void {
    this.open++;
    // `cmd | { a; b; }`: the commands in the group read the pipe; a nested group inherits it.
    this.groups.push({ from: this.out.length, upstream: this.stage });
  }

  private closed(): { from: number } | undefined {
    this.open--;
    return this.groups.pop();
  }

  private lineOf(): number {
    return this.opts.line ?? this.line;
  }

  /** The body of `name() …`: one compound command, kept as text for the calls (see the header). */
  private parseFunctionBody(name: string): void {
    this.skipNewlines();
    const tok = this.peek();
    const start = this.tokStart;
    const from = this.out.length;
    const line = this.lineOf();
    if (tok.t === "op" && tok.op === "(") this.parseCommand();
    else this.parseList(null, undefined, this.open);
    const end = this.buf ? this.tokStart : this.i;
    this.out.length = from;
    this.out.push({ words: [], assigns: [], redirects: [], line, fn: { name, text: this.s.slice(start, end) } });
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
    const cmd: ShellCommand = { words: [], assigns: [], redirects: [], line: this.lineOf() };
    if (this.coproc && !redirectsOnly) {
      cmd.coproc = true;
      this.coproc = false;
    }
    const piped = this.groups.findLast((g) => g.upstream)?.upstream;
    if (piped) {
      cmd.upstream = piped;
      this.inherited.add(cmd);
    }
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
          // `name ( )`: a function definition, not a command.
          if (cmd.words.length === tok.words.length && cmd.assigns.length === 0 && this.skipParens()) {
            if (cmd.redirects.length) this.out.push({ ...cmd, words: [] });
            return this.parseFunctionBody(tok.raw);
          }
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
