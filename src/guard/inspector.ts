// The walk behind checkCommand (check.ts): every command the parser lists, in execution order,
// with the shell state earlier commands leave (state.ts); each command unwrapped through aliases,
// functions, hashed names and wrappers down to the program that runs, which is then judged
// (programs that run other code: run.ts; git: git.ts; the settings: settings-writes.ts).
import { parseShell, ShellSyntaxError, type ParseOptions, type ShellCommand, type ShellWord } from "../shell/parse.ts";
import { BASH_BUILTINS, builtin, evaluations, promptVariable } from "./builtins.ts";
import { checkGit, type Checker, type Deny } from "./git.ts";
import { upstreamText } from "./programs/invocations.ts";
import { basename, couldBe, couldBeProgram, unwrap } from "./programs.ts";
import { program, stdinShell } from "./run.ts";
import {
  bridgeSettingsChange,
  BRIDGE_NAMES,
  settingsFileWrite,
  isBridgeProgram,
  settingsDeny,
  settingsRedirect,
  settingsNameIn,
} from "./settings-writes.ts";
import { feedScript, inputs, type Feed } from "./feeds.ts";
import type { ShellState } from "./state.ts";
import { toolFor } from "./programs/tools.ts";

// GIT_CONFIG_* are configuration, which git.ts reads (aliases when called, commands like core.pager at once).
const RUN_VARS = /^(?:GIT_(?!CONFIG_)[A-Z_]+|EDITOR|VISUAL|PAGER|SHELL|PROMPT_COMMAND|BASH_ENV|ENV|LESSOPEN|LESSCLOSE|MANPAGER|BROWSER)=/;
const CODE_TOKEN_SPLIT = /[^A-Za-z0-9_./@+-]+/;
const WINDOW = 8;
const ALIAS_WORD = /^[^'"\\$`=/]+$/;

export interface GuardPolicy {
  /** Denied git subcommands, tested against the whole subcommand word. */
  blockGit: RegExp;
  /** From config guard.deny: "kubectl apply", "npm publish"… (words, not substrings). */
  denyPatterns: readonly string[];
  /** True for non-admin sessions: deny Bash that changes the bridge's automation settings (the rails of every session). */
  protectSettings: boolean;
  /** Where guard.deny lives, for messages; default "<BRIDGE_ROOT>/bridge-settings.json". */
  configFile?: string;
}

export class Inspector implements Checker {
  readonly protectSettings: boolean;
  readonly patterns: string[][];

  constructor(readonly policy: GuardPolicy) {
    this.protectSettings = policy.protectSettings;
    this.patterns = policy.denyPatterns.map((p) => p.trim().split(/\s+/)).filter((p) => p[0] !== "");
  }

  script(text: string, depth: number, strict: boolean, st: ShellState, opts: ParseOptions = {}): Deny | undefined {
    let commands: ShellCommand[];
    try {
      commands = parseShell(text, depth, opts);
    } catch (err) {
      if (strict || !(err instanceof ShellSyntaxError)) throw err;
      return undefined; // text that only may be a script (a pipe's input): the token check covers it
    }
    for (const cmd of commands) {
      const d = this.command(cmd, depth, st);
      if (d) return d;
    }
    // `trap 'cmd' EXIT` (or a signal, DEBUG…): runs later, when functions defined after it exist.
    while (st.root && st.traps.length) {
      const d = this.script(st.traps.shift()!, depth + 1, false, st.sameShell());
      if (d) return d;
    }
    return undefined;
  }

  private command(cmd: ShellCommand, depth: number, st: ShellState): Deny | undefined {
    if (cmd.fn) {
      st.functions.set(cmd.fn.name, { ...cmd.fn, ctx: st.ctx, line: cmd.line ?? 0 });
      // bash calls it for any command it cannot find: as good as called.
      return cmd.fn.name === "command_not_found_handle" ? this.call(cmd.fn.name, [], cmd, depth, st) : undefined;
    }
    if (cmd.evals) return evaluations(this, cmd.evals, depth, st);
    if (this.protectSettings) {
      for (const r of cmd.redirects) {
        const hit = settingsRedirect(r);
        if (hit) return settingsDeny(hit);
      }
    }
    const d = this.assignments(cmd.assigns, depth, st);
    if (d) return d;
    if (cmd.words.length === 0) {
      for (const a of cmd.assigns) {
        const eq = a.value.indexOf("=");
        st.assign(a.value.slice(0, eq), a.dynamic ? null : a.value.slice(eq + 1));
        if (/^GIT_/.test(a.value)) st.env.push(a);
      }
      return undefined;
    }
    return this.words(cmd.words, cmd, depth, cmd.assigns, st);
  }

  /** `GIT_EDITOR='git push' git commit`, `PAGER=…`, `PS4='$(…)'`: variables whose value git or bash runs. */
  assignments(assigns: ShellWord[], depth: number, st: ShellState): Deny | undefined {
    for (const a of assigns) {
      const d = promptVariable(this, a, depth, st);
      if (d) return d;
      if (/^BASH_FUNC_/.test(a.value)) {
        const body = this.script(a.value.slice(a.value.indexOf("=") + 1).replace(/^\(\)\s*/, ""), depth + 1, false, st.sameShell());
        if (body) return body;
      }
      if (!RUN_VARS.test(a.value)) continue;
      const name = a.value.slice(0, a.value.indexOf("="));
      const c = this.code(a.raw, name, `the variable ${name}`);
      if (c) return c;
    }
    return undefined;
  }

  words(ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[], st: ShellState): Deny | undefined {
    // Builtins stay builtins behind `command` and `builtin`; behind sudo, env… the name is a program.
    let builtinsApply = true;
    for (let hops = 0; ws.length > 0; hops++) {
      if (hops > 16) throw new ShellSyntaxError("commands wrapped too deeply");
      const prog = ws[0]!;
      if (hops === 0) {
        // Checked as expanded and, in case this shell does not expand it after all, as written.
        const expanded = this.alias(ws, cmd, depth, assigns, st);
        if (expanded) return expanded;
        if (!prog.dynamic && st.functions.has(prog.value)) return this.call(prog.value, ws.slice(1), cmd, depth, st);
      }
      const pat = this.denyPattern(ws);
      if (pat) return pat;
      if (prog.dynamic) return this.unknownProgram(ws, cmd, depth, assigns, st);
      const hashed = hops === 0 && !prog.value.includes("/") && !BASH_BUILTINS.has(prog.value) ? st.hash.get(prog.value) : undefined;
      if (hashed) ws = [hashed, ...ws.slice(1)];
      const name = basename(ws[0]!.value);
      if ((BASH_BUILTINS.has(name) || name === "[[") && !ws[0]!.value.includes("/") && builtinsApply) {
        const d = builtin(this, name, ws, cmd, depth, st);
        if (d) return d;
      }
      const t = toolFor(name)?.(this, ws, cmd, depth, st) ?? stdinShell(this, name, ws, cmd, depth, st);
      if (t) return t;
      const step = unwrap(
        name,
        ws,
        () => upstreamText(cmd),
        () => knownText(inputs(cmd, st).get(0)),
      );
      if (!step) return program(this, name, ws, cmd, depth, assigns, st);
      for (const s of step.scripts) {
        const d = this.script(s, depth + 1, true, st.newProcess(false, inputs(cmd, st)));
        if (d) return d;
      }
      builtinsApply &&= name === "command" || name === "builtin";
      ws = step.inner;
      if (step.assigns.length) {
        const d = this.assignments(step.assigns, depth, st);
        if (d) return d;
        assigns = [...assigns, ...step.assigns];
      }
    }
    return undefined;
  }

  /**
   * Alias expansion (null when none applies): the first word, unquoted, names an alias defined
   * on an earlier line (bash reads a whole line before running it) or in an earlier text, and
   * the shell may expand aliases. An alias ending in a blank expands the next word too. The
   * expansion's last command gets the rest of the words, the redirections and the pipe.
   */
  private alias(ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[], st: ShellState): Deny | undefined | null {
    if (!st.flags.expandAliases || st.aliases.size === 0) return null;
    const applies = (w: ShellWord | undefined) => {
      const def = w && !w.dynamic && w.raw === w.value && ALIAS_WORD.test(w.raw) ? st.aliases.get(w.value) : undefined;
      return def && (def.ctx !== st.ctx || def.line < (cmd.line ?? 0)) ? def : undefined;
    };
    let def = applies(ws[0]);
    if (!def) return null;
    const used = new Set<string>();
    let text = "";
    let k = 0;
    while (def && !used.has(ws[k]!.value)) {
      used.add(ws[k]!.value);
      text += def.value + " ";
      k++;
      def = /[ \t]$/.test(def.value) ? applies(ws[k]) : undefined;
    }
    const inner = st.sameShell();
    inner.aliases = new Map([...st.aliases].filter(([n]) => !used.has(n)));
    const note = `alias ${[...used].join(", ")}`;
    if (/(?:[|&;(]|\bthen|\bdo|\belse)\s*$/.test(text)) {
      // An alias ending in `|` or `&&` joins what follows into its syntax: read them as one text.
      const rest = [
        ...ws.slice(k).map((w) => w.raw),
        ...cmd.redirects.filter((r) => !r.body).map((r) => `${r.fd ?? ""}${r.op} ${r.target.raw}`),
      ];
      const d = this.script(text + rest.join(" "), depth + 1, true, inner);
      return d ? { ...d, note: d.note ?? note } : undefined;
    }
    const commands = parseShell(text, depth + 1);
    const last = commands.findLast((c) => !c.subst && !c.fn && !c.evals);
    if (!last) throw new ShellSyntaxError(`alias ${[...used].join(", ")} expands to no command`);
    last.words.push(...ws.slice(k));
    last.assigns.unshift(...assigns);
    last.redirects.push(...cmd.redirects);
    if (cmd.upstream) last.upstream = cmd.upstream;
    for (const c of commands) {
      c.line = cmd.line ?? 0;
      const d = this.command(c, depth + 1, inner);
      if (d) return { ...d, note: d.note ?? note };
    }
    return undefined;
  }

  /** A function call: its body, parsed again with the call's arguments as $1, "$@"… (unless it shifts or sets them). */
  call(name: string, args: ShellWord[], cmd: ShellCommand, depth: number, st: ShellState): Deny | undefined {
    const fn = st.functions.get(name)!;
    if (st.stack.includes(fn)) return undefined; // recursion: the body is being checked already
    const inner = st.sameShell();
    inner.ctx = fn.ctx;
    inner.stack = [...st.stack, fn];
    // The body reads the call's input: `echo 'git push' | f` with f() { bash; }.
    inner.fds = inputs(cmd, st);
    const bind = st.positional(fn, args);
    const d = this.script(fn.text, depth + 1, true, inner, { ...bind, line: fn.line });
    return d ? { ...d, note: d.note ?? `function ${name}` } : undefined;
  }

  /** A program known only at run time: it may be git, session-bridge, a function, or a guard.deny program. */
  private unknownProgram(ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[], st: ShellState): Deny | undefined {
    const prog = ws[0]!;
    if (prog.split) {
      const blocked = ws
        .slice(0, 2)
        .map((w) => w.raw)
        .join(" ");
      return {
        rule: "git",
        blocked,
        note: "the program is an unquoted expansion, which may be several words such as `git push`; quote it, or write the command literally",
      };
    }
    for (const name of st.functions.keys()) {
      if (!couldBeProgram(prog, name)) continue;
      const d = this.call(name, ws.slice(1), cmd, depth, st);
      if (d) return d;
    }
    if (couldBeProgram(prog, "git")) {
      const d = checkGit(this, ws, cmd, depth, assigns, st);
      if (d) return { ...d, note: d.note ?? `the program ${prog.raw} may be git` };
    }
    if (!this.protectSettings) return undefined;
    const hit =
      (BRIDGE_NAMES.some((n) => couldBeProgram(prog, n)) ? bridgeSettingsChange(ws, false) : undefined) ?? settingsFileWrite("", ws);
    return hit ? settingsDeny(hit) : undefined;
  }

  blockedSub(sub: string): boolean {
    // No git subcommand is that long; a long token (from code) could be slow to test against a user's regex.
    if (sub.length > 64) return false;
    this.policy.blockGit.lastIndex = 0; // a /g or /y regex from a caller must not carry state between calls
    return this.policy.blockGit.test(sub);
  }

  /** Words of a command line: the program's file name, then the pattern's other words in order among its arguments. */
  denyPattern(ws: ShellWord[]): Deny | undefined {
    for (const p of this.patterns) {
      if (!couldBeProgram(ws[0]!, basename(p[0]!))) continue;
      let k = 1;
      for (let i = 1; i < ws.length && k < p.length; i++) if (couldBe(ws[i]!, p[k]!)) k++;
      if (k === p.length) return { rule: "deny-pattern", blocked: p.join(" "), pattern: p.join(" ") };
    }
    return undefined;
  }

  /**
   * Text that may run as code the guard cannot parse (an editor's or a pager's command, a
   * token of input): denied when it names git and a blocked subcommand within a few words, a
   * guard.deny command, or a settings change.
   */
  code(text: string, prog: string, where: string): Deny | undefined {
    const tokens = text.split(CODE_TOKEN_SPLIT);
    const near = (i: number) => tokens.slice(i + 1, i + 1 + WINDOW);
    for (let i = 0; i < tokens.length; i++) {
      const b = basename(tokens[i]!);
      if (b === "git") {
        const sub = near(i).find((t) => this.blockedSub(t));
        if (sub !== undefined) return { rule: "git", blocked: `git ${sub}`, note: `named in ${where}` };
      } else if (b.startsWith("git-") && this.blockedSub(b.slice(4))) {
        return { rule: "git", blocked: `git ${b.slice(4)}`, note: `named in ${where}` };
      } else if (this.protectSettings && isBridgeProgram(b)) {
        const hit = bridgeSettingsChange([tokenWord(b), ...near(i).map(tokenWord)], true);
        if (hit) return settingsDeny({ ...hit, what: `${hit.what} (named in ${where})` });
      }
      for (const p of this.patterns) {
        if (b !== basename(p[0]!)) continue;
        let k = 1;
        for (const t of near(i)) if (k < p.length && t === p[k]) k++;
        if (k === p.length) return { rule: "deny-pattern", blocked: p.join(" "), pattern: p.join(" "), note: `named in ${where}` };
      }
    }
    const named = this.protectSettings ? settingsNameIn(text) : undefined;
    if (named !== undefined) {
      return settingsDeny({ blocked: `${prog} … ${named}`, what: `may write the automation config (named in ${where})` });
    }
    return undefined;
  }
}

/** A feed's text when all of it is known (no file, no program output): what xargs reads. */
function knownText(feed: Feed | undefined): string | undefined {
  if (!feed) return "";
  const f = feedScript(feed);
  return f.programs.length || f.files ? undefined : f.text;
}

function tokenWord(t: string): ShellWord {
  return { value: t, raw: t, dynamic: false, split: false, pattern: t };
}
