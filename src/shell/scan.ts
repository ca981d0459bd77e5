// The expansions inside a shell word, for the parser (lex.ts: tokens and words; parse.ts: the
// grammar; types.ts: what they produce): double quotes, $'…', $var, ${…}, $(…), $((…)), $[…],
// backticks. A command substitution is parsed in place through the grammar's parseList, as bash
// does; backtick bodies and unquoted here-document bodies get a child parser. Code that bash
// evaluates inside expansions without a $( ) of its own (names read in arithmetic, ${x@P},
// ${!x}) is listed as a ShellEval, for the guard to look at the values it may find.
import { decodeAnsiC } from "./expand.ts";
import { lit, newAcc, ShellSyntaxError, unknown, type Acc, type ParseOptions, type ShellCommand, type ShellEval } from "./types.ts";

export * from "./types.ts";

const MAX_DEPTH = 24;
const MAX_NESTING = 200;
const IDENT = /[A-Za-z_]/;
const IDENT_CHARS = /[A-Za-z0-9_]/;

export abstract class ShellScanner {
  readonly out: ShellCommand[] = [];
  protected i = 0;
  /** The top-level complete command being read (parse.ts counts them). */
  protected line = 0;
  private nest = 0;
  private lastParam = "";

  constructor(
    protected readonly s: string,
    protected readonly depth: number,
    protected readonly opts: ParseOptions = {},
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

  /** Unquoted here-document body: like double-quoted text without the closing quote. Its value, with DYN for each expansion. */
  scanExpansions(): string {
    const acc = newAcc();
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === "\\" && "$`\\\n".includes(this.s[this.i + 1] ?? "")) {
        if (this.s[this.i + 1] !== "\n") lit(acc, this.s[this.i + 1]!);
        this.i += 2;
      } else if (c === "$") this.readDollar(acc, true);
      else if (c === "`") this.readBacktick(acc, true);
      else {
        lit(acc, c);
        this.i++;
      }
    }
    return acc.v;
  }

  /** Commands listed from index `from` on run inside a substitution: their output is a value. */
  protected markSubst(from: number): void {
    for (let k = from; k < this.out.length; k++) this.out[k]!.subst = (this.out[k]!.subst ?? 0) + 1;
  }

  protected pushEval(e: ShellEval): void {
    this.out.push({ words: [], assigns: [], redirects: [], evals: [e] });
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
      if (!(s[this.i + 2] === "(" && this.scanArith(this.i + 3, "))"))) {
        const from = this.out.length;
        this.i += 2;
        this.parseList(")", undefined);
        this.markSubst(from);
      }
      unknown(acc, !inDq);
    } else if (n === "[" && this.scanArith(this.i + 2, "]")) {
      unknown(acc, !inDq);
    } else if (n === "{") {
      this.i += 2;
      const name = this.readParam();
      if (name !== null && this.positional(acc, name, inDq)) return;
      // "${arr[@]}" and "${!prefix@}" are several words even inside double quotes.
      unknown(acc, !inDq || name === "@" || /^[@!]|\[@\]/.test(this.lastParam));
    } else if (n !== undefined && IDENT.test(n)) {
      this.i += 2;
      while (this.i < s.length && IDENT_CHARS.test(s[this.i]!)) this.i++;
      unknown(acc, !inDq);
    } else if (n !== undefined && /[0-9@*#?$!-]/.test(n)) {
      this.i += 2;
      if (this.positional(acc, n, inDq)) return;
      unknown(acc, !inDq || n === "@"); // "$@" is several words even inside double quotes
    } else {
      lit(acc, "$");
      this.i++;
    }
  }

  /**
   * A positional parameter ($1, ${2}, $#, $*) when the arguments are known (a function called
   * with literal words). Unquoted text that would be split or globbed stays unknown.
   */
  private positional(acc: Acc, key: string, inDq: boolean): boolean {
    const args = this.opts.positional;
    if (!args || !/^(?:[1-9][0-9]*|#|\*)$/.test(key)) return false;
    let text: string | null;
    if (key === "#") text = String(args.length);
    else if (key === "*") text = args.some((a) => a.dynamic) ? null : args.map((a) => a.value).join(" ");
    else {
      const arg = args[Number(key) - 1];
      text = arg === undefined ? "" : arg.dynamic ? null : arg.value;
    }
    if (text === null || (!inDq && /[\s*?[]/.test(text))) unknown(acc, !inDq);
    else lit(acc, text);
    return true;
  }

  /**
   * After `${`: up to the matching `}`. Answers the parameter's name when the expansion is plain
   * (`${1}`, `${x}`), else null. Lists the evaluations bash does inside: subscripts and
   * `${x:off:len}` are arithmetic, `${x@P}` expands x's value as a prompt, `${!x}` names a variable.
   */
  private readParam(): string | null {
    const s = this.s;
    const start = this.i;
    let prefix = "";
    if ((s[this.i] === "!" || s[this.i] === "#") && s[this.i + 1] !== "}") prefix = s[this.i++]!;
    let name = "";
    if (IDENT.test(s[this.i] ?? "")) while (this.i < s.length && IDENT_CHARS.test(s[this.i]!)) name += s[this.i++];
    else if (/[0-9]/.test(s[this.i] ?? "")) while (/[0-9]/.test(s[this.i] ?? "")) name += s[this.i++];
    else if (s[this.i] !== undefined && "@*#?-$!".includes(s[this.i]!)) name = s[this.i++]!;
    let subscript = "";
    if (name && IDENT.test(name[0]!) && s[this.i] === "[") {
      const names: string[] = [];
      const from = this.i;
      this.scanSubscript(names);
      subscript = s.slice(from, this.i);
      if (names.length) this.pushEval({ kind: "arith", names });
    }
    const rest = this.i;
    this.skipParam();
    const op = s.slice(rest, this.i - 1);
    this.lastParam = s.slice(start, this.i - 1);
    if (name && IDENT.test(name[0]!)) {
      if (op === "@P") this.pushEval({ kind: "prompt", name });
      if (prefix === "!" && !/^\[[@*]\]$/.test(subscript) && !/^[@*]/.test(op)) this.pushEval({ kind: "indirect", name });
      if (/^:[^-=?+]/.test(op)) {
        const names = [...op.matchAll(/(?<![\w$#])[A-Za-z_]\w*/g)].map((m) => m[0]);
        if (names.length) this.pushEval({ kind: "arith", names });
      }
    }
    return prefix === "" && subscript === "" && op === "" ? name : null;
  }

  /** `[…]` after a parameter name: single quotes do not quote there (bash expands `${a['$(x)']}`). */
  private scanSubscript(names: string[]): void {
    const s = this.s;
    const junk = newAcc();
    let depth = 0;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) this.fail("unterminated ${");
      if (c === "[") depth++;
      else if (c === "]" && --depth === 0) {
        this.i++;
        return;
      } else if (c === "\\") this.i++;
      else if (c === "$") {
        this.readDollar(junk, true);
        continue;
      } else if (c === "`") {
        this.readBacktick(junk, true);
        continue;
      } else if (c === '"') {
        this.readDq(junk);
        continue;
      } else if (IDENT.test(c) && !/[\w$#]/.test(s[this.i - 1] ?? "")) {
        const m = /^[A-Za-z_]\w*/.exec(s.slice(this.i, this.i + 256))!;
        names.push(m[0]);
        this.i += m[0].length;
        continue;
      }
      this.i++;
    }
  }

  /**
   * After `((` (close "))") or `$[` (close "]"): arithmetic up to the close, restoring the
   * position and answering false if it is not arithmetic. Single quotes do not quote inside
   * (bash 5.2 expands `(( 'a[$(x)]' ))`). The names read are listed as an arithmetic ShellEval.
   */
  protected scanArith(from: number, close: "))" | "]"): boolean {
    const save = this.i;
    const saveOut = this.out.length;
    const s = this.s;
    const junk = newAcc();
    const names: string[] = [];
    const open = close === "))" ? "(" : "[";
    this.i = from;
    let depth = 0;
    try {
      while (this.i < s.length) {
        const c = s[this.i]!;
        if (c === open) depth++;
        else if (c === close[0]) {
          if (depth > 0) depth--;
          else if (close === "]" || s[this.i + 1] === ")") {
            this.i += close.length;
            if (names.length) this.pushEval({ kind: "arith", names });
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
        } else if (c === "\\") this.i++;
        else if (IDENT.test(c) && !/[\w$#]/.test(s[this.i - 1] ?? "")) {
          const m = /^[A-Za-z_]\w*/.exec(s.slice(this.i, this.i + 256))!;
          names.push(m[0]);
          this.i += m[0].length;
          continue;
        }
        this.i++;
      }
    } catch (err) {
      if (!(err instanceof ShellSyntaxError)) throw err;
      // not arithmetic after all: the caller reparses it as commands, which reports real errors
    }
    this.i = save;
    this.out.length = saveOut;
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
    this.adopt(sub.out, true);
    unknown(acc, !inDq);
  }

  /** Commands of a child parser (backticks, here-document bodies), stamped with this line. */
  protected adopt(cmds: ShellCommand[], subst: boolean): void {
    for (const c of cmds) {
      c.line = this.opts.line ?? this.line;
      if (subst) c.subst = (c.subst ?? 0) + 1;
    }
    this.out.push(...cmds);
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
