// What earlier commands of the same Bash call leave for later ones, as the guard walks the
// commands in execution order: aliases, functions, hashed names, variables with literal
// values, git configuration in the environment, open file descriptors, `set -n`.
// Kept conservative where the walk cannot follow control flow: a value assigned anywhere
// before (even in a branch not taken, or a subshell) counts as a value the variable may have.
import type { ShellFunction, ShellWord } from "../shell/parse.ts";

/** What a descriptor delivers, as far as the command text shows it (feeds.ts reads them). */
export type FeedPart = { text: string } | { file: string } | { program: string };

export interface Feed {
  parts: FeedPart[];
}

export interface AliasDef {
  value: string;
  /** The parse (script text) and top-level line it was defined on: it applies to later lines only. */
  ctx: number;
  line: number;
}

export interface FunctionDef extends ShellFunction {
  ctx: number;
  line: number;
}

/** Values a variable may have: the literal ones seen, and whether it may have another. */
export interface VarValues {
  values: string[];
  unknown: boolean;
}

let contexts = 0;

export class ShellState {
  /** Id of the script text being checked (a new one for each eval, source, bash -c…). */
  ctx = ++contexts;
  aliases = new Map<string, AliasDef>();
  functions = new Map<string, FunctionDef>();
  /** `hash -p PATH NAME`: NAME runs PATH. */
  hash = new Map<string, ShellWord>();
  vars = new Map<string, VarValues>();
  /** GIT_* (and HOME…) assignments that may be in git's environment. */
  env: ShellWord[] = [];
  /** Descriptors opened by `exec N<…` for the rest of the script. */
  fds = new Map<number, Feed>();
  /**
   * Shell options, shared by everything run in the same shell: `shopt -s expand_aliases` (on at
   * Claude Code's top level: its shell snapshot sets it).
   */
  flags: { expandAliases: boolean };
  /** Trap actions, run when this shell process ends (or on a signal): checked after its last command. */
  traps: string[] = [];
  /** The state a shell process starts with (not an eval, source or function in it). */
  root = true;
  /** Function definitions being called (a recursive call is not entered twice; a redefinition is another function). */
  stack: FunctionDef[] = [];

  constructor(expandAliases: boolean) {
    this.flags = { expandAliases };
  }

  /** The same shell reading another text (eval, source, a trap action, a function body). */
  sameShell(): ShellState {
    const st = Object.create(ShellState.prototype) as ShellState;
    Object.assign(st, this, { ctx: ++contexts, root: false });
    return st;
  }

  /**
   * A new shell process (bash -c, sh <<EOF): no aliases or hashed names; variables only
   * through the environment; functions kept (an `export -f`, which the guard does not follow);
   * the descriptors of the command that starts it (`echo x | bash -c 'cat | sh'`).
   */
  newProcess(expandAliases: boolean, fds: Map<number, Feed> = this.fds): ShellState {
    const st = new ShellState(expandAliases);
    st.functions = new Map(this.functions);
    st.env = [...this.env];
    st.fds = new Map(fds);
    return st;
  }

  /** The words a function body sees as $1, "$@"…: none when it may shift or reset them, or split them otherwise (IFS). */
  positional(fn: FunctionDef, args: ShellWord[]): { positional?: ShellWord[] } {
    return /\b(?:shift|set|getopts|IFS)\b/.test(fn.text) || this.vars.has("IFS") ? {} : { positional: args };
  }

  /** Records `name=value` (value null: not known). */
  assign(name: string, value: string | null): void {
    const v = this.vars.get(name) ?? { values: [], unknown: false };
    if (value === null) v.unknown = true;
    else if (!v.values.includes(value)) v.values.push(value);
    this.vars.set(name, v);
  }
}
