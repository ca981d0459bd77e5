// Tokens and words of the shell parser (parse.ts has the grammar, scan.ts the
// expansions inside words): operators, redirections, here-documents, quoting, globs, braces.
import { expandBraces } from "./expand.ts";
import {
  ANYTHING,
  ShellScanner,
  escapeRe,
  lit,
  newAcc,
  unknown,
  wildcard,
  type Acc,
  type ShellCommand,
  type ShellRedirect,
  type ShellWord,
  type Token,
} from "./scan.ts";

export * from "./types.ts";

// Bash's blanks are space and tab only: a carriage return, a form feed or a Unicode space is an
// ordinary character of a word (`git push\r` asks git for "push\r"; `true\r# ; x` runs x).
const BLANK = (c: string | undefined) => c === " " || c === "\t";
const METACHARS = " \t\n;&|()<>";
/** `"$@"`, `$*`, `"${@:2}"`… as a whole word: with known arguments, one word per argument (or per field, unquoted). */
const ALL_ARGS = /^("?)(?:\$[@*]|\$\{[@*](?::([1-9][0-9]*)(?::([0-9]+))?)?\})\1(?=[ \t\n;&|()<>]|$)/;

const ARRAY_START = /^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=$/;

export abstract class ShellLexer extends ShellScanner {
  protected buf: Token | null = null;
  /** Where the last token read (the buffered one, when there is one) starts. */
  protected tokStart = 0;
  private pending: { redir: ShellRedirect; delim: string; strip: boolean; quoted: boolean }[] = [];

  protected abstract override child(text: string): ShellLexer;

  /** The next character, for the grammar's `((` checks. */
  protected at(k = 0): string | undefined {
    return this.s[this.i + k];
  }

  /** The next `n` characters of source, unlexed. */
  protected ahead(n: number): string {
    return this.s.slice(this.i, this.i + n);
  }

  protected peek(): Token {
    return (this.buf ??= this.lex());
  }

  protected next(): Token {
    const tok = this.peek();
    this.buf = null;
    return tok;
  }

  protected lex(): Token {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (BLANK(c)) this.i++;
      else if (c === "\\" && s[this.i + 1] === "\n") this.i += 2;
      else if (c === "#") {
        const nl = s.indexOf("\n", this.i);
        this.i = nl < 0 ? s.length : nl;
      } else break;
    }
    this.tokStart = this.i;
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
      const n = Number(fd[0].slice(0, -1));
      return this.readRedirect(Number.isInteger(n) ? n : -1);
    }
    return this.readWordToken();
  }

  /** `fd`: the number written before the operator, -1 for `{var}>`, undefined for none. */
  private readRedirect(fd?: number): Token {
    const m = /^(?:<<<|<<-|<<|<>|<&|<|>>|>\||>&|>|&>>|&>)/.exec(this.s.slice(this.i, this.i + 3))!;
    const op = m[0];
    this.i += op.length;
    while (BLANK(this.s[this.i])) this.i++;
    if (op === "<<" || op === "<<-") return this.readHeredocStart(op, fd);
    const tok = this.peekWordStart() ? this.readWordToken() : null;
    if (!tok) this.fail(`missing file name after "${op}"`);
    const redir: ShellRedirect = { op, target: tok.words[0] ?? { value: "", raw: tok.raw, dynamic: true, split: true, pattern: ANYTHING } };
    if (fd !== undefined) redir.fd = fd;
    return { t: "redir", redir };
  }

  private peekWordStart(): boolean {
    const c = this.s[this.i];
    return c !== undefined && !" \t\n;&|()".includes(c) && !((c === "<" || c === ">") && this.s[this.i + 1] !== "(");
  }

  /** The delimiter is quote-removed but never expanded; any quoting makes the body literal. */
  private readHeredocStart(op: string, fd: number | undefined): Token {
    const s = this.s;
    const start = this.i;
    let delim = "";
    let quoted = false;
    while (this.i < s.length && !METACHARS.includes(s[this.i]!)) {
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
    if (fd !== undefined) redir.fd = fd;
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
      h.redir.text = body;
      if (!h.quoted) {
        const sub = this.child(body);
        h.redir.text = sub.scanExpansions();
        this.adopt(sub.out, true);
      }
    }
  }

  private readWordToken(): { t: "w"; words: ShellWord[]; raw: string } {
    const start = this.i;
    const s = this.s;
    const all = this.opts.positional && ALL_ARGS.exec(s.slice(start, start + 24));
    // "$*" is one word: the arguments joined, which the expansion reader gives.
    if (all && !(all[1] && all[0].includes("*"))) {
      this.i += all[0].length;
      const from = all[2] ? Number(all[2]) - 1 : 0;
      const args = (this.opts.positional ?? []).slice(from, all[3] === undefined ? undefined : from + Number(all[3]));
      return { t: "w", words: this.allArgs(args, all[1] === '"'), raw: all[0] };
    }
    const acc = newAcc();
    let braces = false;
    let procsub: ShellCommand[] | undefined;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) break;
      if ((c === "<" || c === ">") && s[this.i + 1] === "(" && this.i === start) {
        const from = this.out.length;
        this.i += 2;
        this.nested(")");
        this.markSubst(from);
        if (c === "<") procsub = this.out.slice(from);
        // `>(cmd)`: cmd reads what the command writes to it, like a coprocess.
        else for (let k = from; k < this.out.length; k++) this.out[k]!.coproc = true;
        unknown(acc, false);
        continue;
      }
      if (c === "(" && ARRAY_START.test(s.slice(start, this.i))) {
        this.readArray(acc);
        continue;
      }
      if (METACHARS.includes(c)) break;
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
        wildcard(acc, c, c === "*" ? ANYTHING : "[^]");
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
    const word: ShellWord = { value: acc.v, raw, dynamic: acc.d, split: acc.s, pattern: acc.p ?? escapeRe(acc.v) };
    if (procsub && raw.endsWith(")")) word.procsub = procsub;
    if (braces) {
      const variants = expandBraces(raw);
      if (variants.length === 0) return { t: "w", words: [{ ...word, dynamic: true, split: true, pattern: ANYTHING }], raw }; // too many to list
      if (variants.length > 1 || variants[0] !== raw) return { t: "w", words: variants.flatMap((v) => this.decodeVariant(v, word)), raw };
    }
    // An unquoted expansion known to be empty (a missing function argument) leaves no word.
    if (word.value === "" && !word.dynamic && raw !== "" && !/['"\\]/.test(raw)) return { t: "w", words: [], raw };
    return { t: "w", words: [word], raw };
  }

  /** Quoted: each argument one word. Unquoted: each split into fields on blanks (unknown when it may be globbed). */
  private allArgs(args: ShellWord[], quoted: boolean): ShellWord[] {
    if (quoted) return args;
    return args.flatMap((a): ShellWord[] =>
      a.dynamic || /[*?[]/.test(a.value)
        ? [{ ...a, dynamic: true, split: true, pattern: ANYTHING }]
        : a.value
            .split(/[ \t\n]+/)
            .filter(Boolean)
            .map((v) => ({ value: v, raw: v, dynamic: false, split: false, pattern: escapeRe(v) })),
    );
  }

  /**
   * One brace-expansion result, decoded on its own (its substitutions were already listed).
   * An empty unquoted result leaves no word, as in bash (`git {,push}` is `git push`).
   */
  private decodeVariant(text: string, whole: ShellWord): ShellWord[] {
    if (text === "") return [];
    const tok = this.child(text).lex();
    return tok.t === "w" && tok.words.length <= 1 && tok.raw === text
      ? tok.words
      : [{ ...whole, dynamic: true, split: true, pattern: ANYTHING }];
  }

  private globClass(acc: Acc): boolean {
    const s = this.s;
    let k = this.i + 1;
    while (k < s.length && !METACHARS.includes(s[k]!) && s[k] !== "]") k++;
    if (s[k] !== "]" || k === this.i + 1) return false;
    // Wider than one character: the value keeps the whole [...] text, which the pattern must match.
    wildcard(acc, s.slice(this.i, k + 1), ANYTHING);
    this.i = k + 1;
    return true;
  }

  /** `name=( a b "$(c)" )`: an array assignment; its elements are words. */
  private readArray(acc: Acc): void {
    this.i++;
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) this.fail("unterminated array (");
      if (BLANK(c) || c === "\n") this.i++;
      else if (c === ")") break;
      else if (c === "#") while (this.i < this.s.length && this.s[this.i] !== "\n") this.i++;
      else if (!this.peekWordStart()) this.fail(`unexpected "${c}" in an array`);
      else this.readWordToken();
    }
    this.i++;
    unknown(acc, false);
  }
}
