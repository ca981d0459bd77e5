// The evaluations inside an expansion that are not a command substitution of their own, for
// the parser (scan.ts reads the rest of a word): ${…} with its subscript and operators, $((…)),
// ((…)) and $[…] arithmetic, and positional parameters when a function's arguments are known.
// Bash evaluates names read in arithmetic (a value `a[$(x)]` runs x), ${x@P} (a prompt) and
// ${!x} (a name): they are listed as ShellEval entries for the guard.
import { lit, newAcc, ShellSyntaxError, unknown, type Acc, type ParseOptions, type ShellCommand, type ShellEval } from "./types.ts";

const MAX_DEPTH = 24;
const IDENT = /[A-Za-z_]/;
const IDENT_CHARS = /[A-Za-z0-9_]/;

export abstract class EvalScanner {
  readonly out: ShellCommand[] = [];
  protected i = 0;
  /** The top-level complete command being read (parse.ts counts them). */
  protected line = 0;
  /** The text of the last ${…} read, for the caller's "several words" test. */
  protected lastParam = "";

  constructor(
    protected readonly s: string,
    protected readonly depth: number,
    protected readonly opts: ParseOptions = {},
  ) {
    if (depth > MAX_DEPTH) throw new ShellSyntaxError("commands nested too deeply");
  }

  protected abstract readDollar(acc: Acc, inDq: boolean): void;
  protected abstract readDq(acc: Acc): void;
  protected abstract readBacktick(acc: Acc, inDq: boolean): void;

  protected fail(what: string): never {
    throw new ShellSyntaxError(`${what} at offset ${this.i}`);
  }

  protected pushEval(e: ShellEval): void {
    this.out.push({ words: [], assigns: [], redirects: [], evals: [e] });
  }

  /**
   * A positional parameter ($1, ${2}, $#, $*) when the arguments are known (a function called
   * with literal words). Unquoted text that would be split or globbed stays unknown.
   */
  protected positional(acc: Acc, key: string, inDq: boolean): boolean {
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
  protected readParam(): string | null {
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
      else if (this.readArithPiece(junk, names)) continue;
      this.i++;
    }
  }

  /**
   * One piece of arithmetic text (in `((…))`, `$[…]` or a subscript) that is not a bracket: an
   * expansion or double-quoted string, read for its commands, or a name bash evaluates, listed.
   * False when the character at the position is none of these.
   */
  private readArithPiece(junk: Acc, names: string[]): boolean {
    const s = this.s;
    const c = s[this.i]!;
    if (c === "$") this.readDollar(junk, true);
    else if (c === "`") this.readBacktick(junk, true);
    else if (c === '"') this.readDq(junk);
    else if (IDENT.test(c) && !/[\w$#]/.test(s[this.i - 1] ?? "")) {
      const m = /^[A-Za-z_]\w*/.exec(s.slice(this.i, this.i + 256))!;
      names.push(m[0]);
      this.i += m[0].length;
    } else return false;
    return true;
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
        } else if (c === "\\") this.i++;
        else if (this.readArithPiece(junk, names)) continue;
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
}
