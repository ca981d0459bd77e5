// The expansions inside a shell word, for the parser (lex.ts: tokens and words; parse.ts: the
// grammar; types.ts: what they produce): double quotes, $'…', $var, ${…}, $(…), $((…)), $[…],
// backticks. A command substitution is parsed in place through the grammar's parseList, as bash
// does; backtick bodies and unquoted here-document bodies get a child parser. Code that bash
// evaluates inside expansions without a $( ) of its own (names read in arithmetic, ${x@P},
// ${!x}) is listed as a ShellEval, for the guard to look at the values it may find.
import { decodeAnsiC } from "./expand.ts";
import { EvalScanner } from "./evals.ts";
import { lit, newAcc, unknown, type Acc, type ShellCommand } from "./types.ts";

export * from "./types.ts";

const MAX_NESTING = 200;

export abstract class ShellScanner extends EvalScanner {
  private nest = 0;

  /** The grammar: commands up to `close`, a case terminator, or the end (see parse.ts). */
  protected abstract parseList(close: ")" | null, stopWords: Set<string> | undefined): string;
  /** A parser for a nested script (backticks, here-document bodies, brace-expansion variants). */
  protected abstract child(text: string): ShellScanner;

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
    } else if (n !== undefined && /[A-Za-z_]/.test(n)) {
      this.i += 2;
      while (this.i < s.length && /[A-Za-z0-9_]/.test(s[this.i]!)) this.i++;
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
