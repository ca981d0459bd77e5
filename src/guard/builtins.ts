// Bash builtins that matter to the guard beyond running a program: those that change what later
// commands do (alias, hash, shopt, set, export/declare, exec with only redirections), and those
// that evaluate text given to them as a variable name or arithmetic (printf -v, read, declare,
// local, unset, test -v, [[ -v ]], let, mapfile…), where a subscript such as `a[$(git push)]`
// runs its command substitution. Also the evaluations the parser finds inside words.
import { DYN, parseExpansions, type ShellCommand, type ShellEval, type ShellWord } from "../shell/parse.ts";
import { redirect } from "./feeds.ts";
import type { Checker, Deny } from "./git.ts";
import type { ShellState } from "./state.ts";

/** Builtins run before a hashed or PATH name of the same name (`hash -p /usr/bin/git echo; echo push` runs the builtin). */
export const BASH_BUILTINS = new Set(
  (
    ". : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown echo " +
    "enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile popd printf " +
    "pushd pwd read readarray readonly return set shift shopt source suspend test times trap true type typeset ulimit " +
    "umask unalias unset wait"
  ).split(" "),
);

const DECLARERS = new Set(["declare", "typeset", "local", "export", "readonly"]);
const SUBSCRIPT_CODE = /\[[\s\S]*(?:\$\(|`|\$\{|\$\[)/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A builtin that changes the shell for the commands after it: record it. Answers a denial for what it evaluates. */
export function builtin(c: Checker, name: string, ws: ShellWord[], cmd: ShellCommand, depth: number, st: ShellState): Deny | undefined {
  const args = ws.slice(1);
  switch (name) {
    case "alias":
      for (const w of args) {
        const eq = w.value.indexOf("=");
        if (eq > 0) st.aliases.set(w.value.slice(0, eq), { value: w.value.slice(eq + 1), ctx: st.ctx, line: cmd.line ?? 0 });
      }
      return undefined;
    case "unalias":
      for (const w of args)
        if (w.value === "-a") st.aliases.clear();
        else st.aliases.delete(w.value);
      return undefined;
    case "hash": {
      const p = args.findIndex((w) => w.value === "-p");
      if (p >= 0 && args[p + 1] && args[p + 2]) st.hash.set(args[p + 2]!.value, args[p + 1]!);
      return undefined;
    }
    case "shopt": {
      const on = args.some((w) => w.value === "-s");
      if (args.some((w) => w.value === "expand_aliases" || w.dynamic)) st.flags.expandAliases = on || st.flags.expandAliases;
      return undefined;
    }
    case "set":
      for (let k = 0; k < args.length; k++) if (args[k]!.value === "-o" && args[k + 1]?.value === "posix") st.flags.expandAliases = true;
      return undefined;
    case "exec":
      // `exec 3<<<'…'` (no command): the descriptors stay open for the rest of the script. Kept
      // together with what the descriptor held before: a subshell's exec may not have replaced it.
      if (args.length === 0) for (const r of cmd.redirects) redirect(r, st.fds, st, true);
      return undefined;
    default:
      return nameArgs(c, name, args, depth, st);
  }
}

/** Builtins given variable names (and arithmetic): a subscript in a name is expanded, command substitutions included. */
function nameArgs(c: Checker, name: string, args: ShellWord[], depth: number, st: ShellState): Deny | undefined {
  let names: ShellWord[] = [];
  let arith: ShellWord[] = [];
  const after = (flag: string) => args.filter((_, k) => args[k - 1]?.value === flag);
  const operands = () => args.filter((w) => !w.value.startsWith("-"));
  if (DECLARERS.has(name)) {
    const integer = args.some((w) => /^-[a-zA-Z]*i/.test(w.value));
    const nameref = args.some((w) => /^-[a-zA-Z]*n/.test(w.value));
    for (const w of operands()) {
      const eq = w.value.indexOf("=");
      const n = eq < 0 ? w.value : w.value.slice(0, eq);
      // bash 5.2 expands the subscript of `declare 'a[…]=v'`, not of a bare `declare -a 'a[…]'`.
      if (eq >= 0) names.push({ ...w, value: n });
      if (eq >= 0 && (integer || nameref)) (integer ? arith : names).push({ ...w, value: w.value.slice(eq + 1) });
      if (eq >= 0 && NAME.test(n)) {
        st.assign(n, w.dynamic ? null : w.value.slice(eq + 1));
        if (/^GIT_/.test(n)) st.env.push(w);
      }
    }
  } else if (name === "printf" || name === "wait") names = after("-v").concat(name === "wait" ? after("-p") : []);
  else if (name === "read") {
    names = args.filter((w, k) => !w.value.startsWith("-") && !/^-[a-zA-Z]*[dinNptu]$/.test(args[k - 1]?.value ?? ""));
    names.push(...after("-a"));
    for (const w of names) if (NAME.test(w.value)) st.assign(w.value, null);
  } else if (name === "mapfile" || name === "readarray") names = operands().slice(-1);
  else if (name === "getopts") names = operands().slice(1, 2);
  else if (name === "test" || name === "[") names = after("-v");
  else if (name === "[[") {
    names = after("-v");
    arith = args.filter(
      (_w, k) => /^-(?:eq|ne|lt|le|gt|ge)$/.test(args[k - 1]?.value ?? "") || /^-(?:eq|ne|lt|le|gt|ge)$/.test(args[k + 1]?.value ?? ""),
    );
  } else if (name === "let") arith = args;
  else return undefined;
  for (const w of [...names, ...arith]) {
    if (SUBSCRIPT_CODE.test(w.value)) {
      const d = expansions(c, w.value, depth, st);
      if (d) return d;
    }
  }
  const idents = arith.flatMap((w) => [...w.value.matchAll(/(?<![\w$#])[A-Za-z_]\w*/g)].map((m) => m[0]));
  return armed(c, idents, depth, st, 0);
}

/** The command substitutions bash runs when it expands `text` like a prompt or a subscript. */
function expansions(c: Checker, text: string, depth: number, st: ShellState): Deny | undefined {
  return runParsed(c, () => parseExpansions(text.replaceAll(DYN, "$UNKNOWN_VALUE"), depth + 1), depth, st);
}

function runParsed(c: Checker, parse: () => ShellCommand[], depth: number, st: ShellState): Deny | undefined {
  for (const cmd of parse()) {
    if (cmd.words.length === 0) continue;
    const d = c.words(cmd.words, cmd, depth + 1, cmd.assigns, st);
    if (d) return d;
  }
  return undefined;
}

/** Names read in arithmetic: a value such as `a[$(git push)]` is evaluated, its substitution run. */
function armed(c: Checker, names: string[], depth: number, st: ShellState, hops: number): Deny | undefined {
  if (hops > 4) return undefined;
  for (const n of new Set(names)) {
    for (const value of st.vars.get(n)?.values ?? []) {
      if (/\$\(|`|\$\{|\$\[/.test(value)) {
        const d = expansions(c, value, depth, st);
        if (d) return d;
      }
      const d = armed(
        c,
        [...value.matchAll(/(?<![\w$#])[A-Za-z_]\w*/g)].map((m) => m[0]),
        depth,
        st,
        hops + 1,
      );
      if (d) return d;
    }
  }
  return undefined;
}

const LITERALLY = "write the command literally instead";

/** What the parser found evaluated inside words: arithmetic names, ${x@P}, ${!x}. */
export function evaluations(c: Checker, evals: ShellEval[], depth: number, st: ShellState): Deny | undefined {
  for (const e of evals) {
    if (e.kind === "arith") {
      const d = armed(c, e.names, depth, st, 0);
      if (d) return d;
      continue;
    }
    const v = st.vars.get(e.name);
    if (e.kind === "prompt" && (!v || v.unknown))
      return {
        rule: "git",
        blocked: `\${${e.name}@P}`,
        note: `prompt expansion runs the command substitutions of a value the guard cannot see; ${LITERALLY}`,
      };
    for (const value of v?.values ?? []) {
      if (e.kind === "indirect" && !SUBSCRIPT_CODE.test(value)) continue;
      const d = expansions(c, value, depth, st);
      if (d) return d;
    }
  }
  return undefined;
}

/** PS0/PS1/PS2/PS4 are expanded like prompts (PS4 for every command under `set -x`): their substitutions run. */
export function promptVariable(c: Checker, assign: ShellWord, depth: number, st: ShellState): Deny | undefined {
  if (!/^PS[0124]=/.test(assign.value)) return undefined;
  return expansions(c, assign.value.slice(4), depth, st);
}
