/**
 * guard: is this Bash command allowed in a bridged session? A pure decision (no fs, env,
 * process), called by `session-bridge hook guard` (PreToolUse, Bash) with tool_input.command.
 *
 *   checkCommand(command, policy): GuardVerdict      never throws; unparsable input is denied
 *   parseBlockGit(BRIDGE_BLOCK_GIT): RegExp          throws BridgeError E_CONFIG on a bad regex
 *   DEFAULT_BLOCK_GIT = /^(commit|push|reset)$/
 *
 * How: the command is parsed as bash (src/shell/parse.ts) into every simple command that could
 * run — through ; && || | & newlines, ( ) { }, if/while/for/case bodies, functions, $( ) and
 * backticks (nested, in double quotes, in unquoted here-documents), <( ), brace expansion,
 * quoting ("git" 'push' g\it $'\x67it'), backslash-newline. Each command is unwrapped through
 * sudo/env/nohup/time/timeout/nice/exec/command/xargs/parallel/find -exec/npx/strace…, shells
 * (sh/bash -c, -lc; a here-document, here-string or pipe fed to a shell), eval, source <( ),
 * trap and alias bodies, then checked. Compound syntax is not checked for balance (if without
 * fi): every command in it is inspected either way; unbalanced quotes or $( are denied.
 *
 * Decisions:
 * - git is any program whose file name is `git` (/usr/bin/git, ./git). The subcommand is the
 *   first word after git's global options (-C x, -c k=v, --git-dir[=]x, --no-pager…), matched
 *   whole against policy.blockGit. `git-commit` (the legacy dash form, still runnable from
 *   `git --exec-path`) counts as `git commit`; `gitk`, `git-lfs push` do not match.
 * - Aliases from the user's git config cannot be resolved purely: they are not. Aliases made
 *   on the command line are: `git -c alias.x=push x`, `git config alias.x '!git push'`;
 *   `-c help.autocorrect=…` or GIT_CONFIG_* naming aliases make any subcommand suspect.
 * - A subcommand known only at run time (`git $sub`, `git pu*`, `echo push | xargs git`) and a
 *   program that is an unquoted expansion (`$X push`, `$X` may be `git push`) are denied, as is
 *   an unquoted expansion before git's subcommand (`git -C $D status`): quote it. A quoted
 *   variable program (`"$PYTHON" x.py`) is checked as if it might be git or session-bridge.
 * - Arguments of echo/printf/grep/cat/man…, here-document bodies given to them, comments and
 *   single-quoted text are data. `git --help push`, `git --version` run nothing. Any other
 *   program given `git …` as arguments is taken to run it (`strace git push`, `docker run
 *   img git push`, `kubectl exec pod -- git push`).
 * - Interpreter code (python -c, node -e, perl/ruby/php/awk, a here-doc or pipe fed to them;
 *   tmux/screen commands; GIT_EDITOR/PAGER-like variables; git -c values) is not parsed: it
 *   is denied when it names git and a blocked subcommand within 8 words, a guard.deny
 *   command, or the rails. Conservative: `python -c "print('git push')"` is denied.
 * - guard.deny patterns ("kubectl apply") match as words: the program's file name, then the
 *   other words in order anywhere among its arguments (`terraform -chdir=x apply`).
 * - BRIDGE_BLOCK_GIT: a regex matched against the whole subcommand (implicitly ^(?:…)$).
 *   Unset or blank means the default: a blank value is more likely an unset variable than a
 *   wish to allow everything (`session-bridge install --no-block-git` is that).
 * Limits: scripts run from files (bash x.sh, make, npm run, git hooks) are not read; variable
 * values are unknown; git aliases and help.autocorrect from the user's config are not known;
 * an unlisted wrapper is caught only when `git` is one of its words; decoding tricks
 * (base64 -d | sh, printf '\x67it') are not seen through.
 */
import { BridgeError } from "../lib/errors.ts";
import { parseShell, ShellSyntaxError, type ShellCommand, type ShellWord } from "../shell/parse.ts";
import {
  basename,
  couldBe,
  couldBeProgram,
  dynamicWord,
  INTERPRETER,
  interpreterInvocation,
  scriptText,
  shellInvocation,
  SHELLS,
  stdinTexts,
  unwrap,
  upstreamText,
} from "./programs.ts";
import { checkGit, type Checker, type Deny, type GuardRule } from "./git.ts";

export type { GuardRule };
import {
  bridgeRails,
  BRIDGE_NAMES,
  CONFIG_NAME,
  fileRails,
  isBridgeProgram,
  isDataProgram,
  redirectRails,
  type RailsHit,
} from "./settings-writes.ts";

export interface GuardPolicy {
  /** Denied git subcommands, tested against the whole subcommand word. */
  blockGit: RegExp;
  /** From config guard.deny: "kubectl apply", "npm publish"… (words, not substrings). */
  denyPatterns: readonly string[];
  /** True for non-admin sessions: deny Bash that changes the bridge's own rails. */
  protectRails: boolean;
  /** Where guard.deny lives, for messages; default "<BRIDGE_ROOT>/spawner.config.json". */
  configFile?: string;
}

export type GuardVerdict = { allow: true } | { allow: false; rule: GuardRule; blocked: string; reason: string };

export const DEFAULT_BLOCK_GIT = /^(commit|push|reset)$/;

export function parseBlockGit(value: string | undefined): RegExp {
  if (value === undefined || value.trim() === "") return DEFAULT_BLOCK_GIT;
  try {
    return new RegExp(`^(?:${value})$`);
  } catch (err) {
    throw new BridgeError(
      "E_CONFIG",
      `BRIDGE_BLOCK_GIT=${JSON.stringify(value)} is not a valid regular expression (${(err as Error).message}); ` +
        `set it to a regex of git subcommands such as "^(commit|push|reset)$", or unset it for that default`,
    );
  }
}

const ALLOW: GuardVerdict = { allow: true };

export function checkCommand(command: string, policy: GuardPolicy): GuardVerdict {
  let deny: Deny | undefined;
  try {
    deny = new Inspector(policy).script(command, 0, true);
  } catch (err) {
    // Fail closed: the hook must never let a command through because the guard could not read it.
    const why = err instanceof ShellSyntaxError ? err.message : `guard error: ${String(err)}`;
    deny = { rule: "unparsable", blocked: snippet(command), note: why };
  }
  return deny ? { allow: false, rule: deny.rule, blocked: deny.blocked, reason: explain(deny, policy) } : ALLOW;
}

function snippet(command: string): string {
  const one = command.trim().replace(/\s+/g, " ");
  return one.length > 80 ? one.slice(0, 77) + "..." : one;
}

function explain(d: Deny, policy: GuardPolicy): string {
  const cfg = policy.configFile ?? "<BRIDGE_ROOT>/spawner.config.json";
  const via = d.note ? ` (${d.note})` : "";
  const human = "a human decides. To allow it, a human can run it in a terminal";
  switch (d.rule) {
    case "git":
      return (
        `session-bridge guard: \`${d.blocked}\` is blocked in this bridged session${via}. Bridged sessions must not ` +
        `commit, push or reset on their own (git subcommands matching ${policy.blockGit}): ${human}; or relaunch ` +
        `without the guard (\`session-bridge install --no-block-git\`); or set BRIDGE_BLOCK_GIT to a narrower regex.`
      );
    case "deny-pattern":
      return (
        `session-bridge guard: \`${d.blocked}\` is blocked in this bridged session${via}: it matches "${d.pattern}" ` +
        `in guard.deny of ${cfg}. Bridged sessions must not run it on their own: ${human}, or remove ` +
        `"${d.pattern}" from guard.deny in ${cfg}.`
      );
    case "rails":
      return (
        `session-bridge guard: \`${d.blocked}\` is blocked in this bridged session: it ${d.note}. A bridged ` +
        `session may not change the bridge's own rails: ${human}, or from a session started with BRIDGE_ADMIN=1.`
      );
    case "unparsable":
      return (
        `session-bridge guard: this command could not be parsed${via}, so the guard cannot tell whether it runs a ` +
        `blocked command, and a bridged session fails closed. Fix the quoting or split it into simpler commands; ` +
        `or a human can run it in a terminal.`
      );
  }
}

function railsDeny(hit: RailsHit): Deny {
  return { rule: "rails", blocked: hit.blocked, note: hit.what };
}

const EXEC_ACTIONS = new Set(["-exec", "-execdir", "-ok", "-okdir"]);
const RUN_VARS = /^(?:GIT_[A-Z_]+|EDITOR|VISUAL|PAGER|SHELL|PROMPT_COMMAND|BASH_ENV|ENV)=/;
const CODE_TOKEN_SPLIT = /[^A-Za-z0-9_./@+-]+/;
const WINDOW = 8;

class Inspector implements Checker {
  private readonly patterns: string[][];

  constructor(private readonly policy: GuardPolicy) {
    this.patterns = policy.denyPatterns.map((p) => p.trim().split(/\s+/)).filter((p) => p[0] !== "");
  }

  /** `strict`: a parse error propagates (denied); otherwise (heuristic input) it is ignored. */
  script(text: string, depth: number, strict: boolean): Deny | undefined {
    let commands: ShellCommand[];
    try {
      commands = parseShell(text, depth);
    } catch (err) {
      if (strict || !(err instanceof ShellSyntaxError)) throw err;
      return undefined; // text that only may be a script (a pipe's input): the token check covers it
    }
    for (const cmd of commands) {
      const d = this.command(cmd, depth);
      if (d) return d;
    }
    return undefined;
  }

  private command(cmd: ShellCommand, depth: number): Deny | undefined {
    if (this.policy.protectRails) {
      for (const r of cmd.redirects) {
        const hit = redirectRails(r);
        if (hit) return railsDeny(hit);
      }
    }
    return this.assignments(cmd.assigns) ?? this.words(cmd.words, cmd, depth, cmd.assigns);
  }

  /** `GIT_EDITOR='git push' git commit`, `PAGER=…`: variables whose value git or bash runs. */
  private assignments(assigns: ShellWord[]): Deny | undefined {
    for (const a of assigns) {
      if (!RUN_VARS.test(a.value)) continue;
      const name = a.value.slice(0, a.value.indexOf("="));
      const d = this.code(a.raw, name, `the variable ${name}`);
      if (d) return d;
    }
    return undefined;
  }

  words(ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[]): Deny | undefined {
    for (let hops = 0; ws.length > 0; hops++) {
      if (hops > 16) throw new ShellSyntaxError("commands wrapped too deeply");
      const pat = this.denyPattern(ws);
      if (pat) return pat;
      const prog = ws[0]!;
      if (prog.dynamic) return this.unknownProgram(ws, cmd, depth, assigns);
      const name = basename(prog.value);
      const step = unwrap(name, ws, () => upstreamText(cmd));
      if (!step) return this.program(name, ws, cmd, depth, assigns);
      for (const s of step.scripts) {
        const d = this.script(s, depth + 1, true);
        if (d) return d;
      }
      ws = step.inner;
      if (step.assigns.length) {
        const d = this.assignments(step.assigns);
        if (d) return d;
        assigns = [...assigns, ...step.assigns];
      }
    }
    return undefined;
  }

  private program(name: string, ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[]): Deny | undefined {
    let d: Deny | undefined;
    if (SHELLS.has(name)) return this.shell(ws, cmd, depth);
    if (name === "eval")
      return this.script(
        scriptText(
          ws
            .slice(1)
            .map((w) => w.value)
            .join(" "),
        ),
        depth + 1,
        true,
      );
    if (name === "source" || name === ".") d = this.sourced(ws, cmd, depth);
    else if (name === "alias") d = this.aliasBodies(ws, depth);
    else if (name === "git" || name.startsWith("git-")) d = checkGit(this, ws, cmd, depth, assigns);
    else if (name === "find") d = this.findExec(ws, cmd, depth);
    else if (name === "trap") d = this.trapAction(ws, depth);
    else if (name === "tmux" || name === "screen") d = this.typedKeys(ws);
    else if (INTERPRETER.test(name)) {
      const inv = interpreterInvocation(ws);
      const texts = [
        ws
          .slice(1)
          .map((w) => w.value)
          .join(" "),
      ];
      // stdin is the program only without inline code and a script file; otherwise it is data
      if (inv.codeFromStdin) texts.push(...stdinTexts(cmd), upstreamText(cmd));
      d = this.code(texts.join("\n"), name, `${name} code`);
      const script = inv.script;
      if (!d && script && isBridgeProgram(basename(script[0]!.value))) d = this.words(script, cmd, depth, assigns);
    } else if (!isDataProgram(name) && !isBridgeProgram(name)) d = this.embedded(name, ws, cmd, depth);
    if (d || !this.policy.protectRails) return d;
    // session-bridge's own arguments (a message body) may name the config file: only its subcommand matters.
    const hit = isBridgeProgram(name) ? bridgeRails(ws, true) : fileRails(name, ws);
    return hit ? railsDeny(hit) : undefined;
  }

  /** A program known only at run time: it may be git, session-bridge, or a guard.deny program. */
  private unknownProgram(ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[]): Deny | undefined {
    const prog = ws[0]!;
    if (prog.split) {
      const blocked = ws
        .slice(0, 2)
        .map((w) => w.raw)
        .join(" ");
      return {
        rule: "git",
        blocked,
        note: "the program is an unquoted expansion, which may be several words such as `git push`; quote it",
      };
    }
    if (couldBeProgram(prog, "git")) {
      const d = checkGit(this, ws, cmd, depth, assigns);
      if (d) return { ...d, note: d.note ?? `the program ${prog.raw} may be git` };
    }
    if (!this.policy.protectRails) return undefined;
    const hit = (BRIDGE_NAMES.some((n) => couldBeProgram(prog, n)) ? bridgeRails(ws, false) : undefined) ?? fileRails("", ws);
    return hit ? railsDeny(hit) : undefined;
  }

  blockedSub(sub: string): boolean {
    // No git subcommand is that long; a long token (from code) could be slow to test against a user's regex.
    if (sub.length > 64) return false;
    this.policy.blockGit.lastIndex = 0; // a /g or /y regex from a caller must not carry state between calls
    return this.policy.blockGit.test(sub);
  }

  private shell(ws: ShellWord[], cmd: ShellCommand, depth: number): Deny | undefined {
    const inv = shellInvocation(ws);
    if (inv.script !== undefined) return this.script(inv.script, depth + 1, true);
    if (!inv.readsStdin) {
      // A script file is not read; a <( ) whose output is run as the script gets the token check.
      const file = ws.find((w, k) => k > 0 && w.raw.startsWith("<("));
      return file ? this.code(file.raw, ws[0]!.value, "a process substitution run as a script") : undefined;
    }
    return this.stdinScript(ws[0]!.value, cmd, depth);
  }

  /** Input that a shell runs as its script: here-documents exactly, a pipe's producer by tokens. */
  private stdinScript(prog: string, cmd: ShellCommand, depth: number): Deny | undefined {
    for (const body of stdinTexts(cmd)) {
      const d = this.script(body, depth + 1, true);
      if (d) return d;
    }
    if (!cmd.upstream) return undefined;
    const text = upstreamText(cmd);
    return this.script(text, depth + 1, false) ?? this.code(text, prog, "input piped into a shell");
  }

  private sourced(ws: ShellWord[], cmd: ShellCommand, depth: number): Deny | undefined {
    const file = ws[1];
    if (!file) return undefined;
    if (file.value === "/dev/stdin" || file.value === "-") return this.stdinScript(ws[0]!.value, cmd, depth);
    return file.raw.startsWith("<(") ? this.code(file.raw, ws[0]!.value, "a process substitution run as a script") : undefined;
  }

  /** `alias gp='git push'` is denied: the alias may run later, where the guard cannot see it. */
  private aliasBodies(ws: ShellWord[], depth: number): Deny | undefined {
    for (const w of ws.slice(1)) {
      const eq = w.value.indexOf("=");
      if (eq <= 0) continue;
      const d = this.script(scriptText(w.value.slice(eq + 1)), depth + 1, false);
      if (d) return { ...d, note: `defines alias ${w.value.slice(0, eq)}` };
    }
    return undefined;
  }

  /** `trap 'cmd' EXIT`: the action runs later in the same shell. */
  private trapAction(ws: ShellWord[], depth: number): Deny | undefined {
    const args = ws[1]?.value === "--" ? ws.slice(2) : ws.slice(1);
    const action = args[0];
    return action && !action.value.startsWith("-") ? this.script(scriptText(action.value), depth + 1, false) : undefined;
  }

  /** `tmux send-keys 'git push' Enter`, `tmux new-window 'git push'`, `screen -X stuff …`: run in another shell. */
  private typedKeys(ws: ShellWord[]): Deny | undefined {
    return this.code(ws.map((w) => w.value).join(" "), ws[0]!.value, `a command given to ${ws[0]!.value}`);
  }

  /**
   * A program the guard does not know that is given `git …` (or a guard.deny command, or
   * session-bridge) as arguments may run it: `strace -f git push`, `docker run img git push`.
   */
  private embedded(name: string, ws: ShellWord[], cmd: ShellCommand, depth: number): Deny | undefined {
    for (let i = 1; i < ws.length; i++) {
      const w = ws[i]!;
      if (w.dynamic) continue;
      const b = basename(w.value);
      const rest = ws.slice(i);
      let d: Deny | undefined;
      if (b === "git") d = checkGit(this, rest, cmd, depth, []);
      else if (this.policy.protectRails && isBridgeProgram(b)) {
        const hit = bridgeRails(rest, true);
        d = hit ? railsDeny(hit) : undefined;
      } else if (this.patterns.some((p) => basename(p[0]!) === b)) d = this.denyPattern(rest);
      if (d) return { ...d, note: d.note ?? `${name} may run it` };
    }
    return undefined;
  }

  private findExec(ws: ShellWord[], cmd: ShellCommand, depth: number): Deny | undefined {
    for (let i = 1; i < ws.length; i++) {
      if (!EXEC_ACTIONS.has(ws[i]!.value)) continue;
      let j = i + 1;
      while (j < ws.length && ws[j]!.value !== ";" && ws[j]!.value !== "+") j++;
      const inner = ws.slice(i + 1, j).map((w) => (w.value.includes("{}") ? dynamicWord(w.raw, false) : w));
      const d = this.words(inner, cmd, depth, []);
      if (d) return d;
      i = j;
    }
    return undefined;
  }

  /** Words of a command line: the program's file name, then the pattern's other words in order among its arguments. */
  private denyPattern(ws: ShellWord[]): Deny | undefined {
    for (const p of this.patterns) {
      if (!couldBeProgram(ws[0]!, basename(p[0]!))) continue;
      let k = 1;
      for (let i = 1; i < ws.length && k < p.length; i++) if (couldBe(ws[i]!, p[k]!)) k++;
      if (k === p.length) return { rule: "deny-pattern", blocked: p.join(" "), pattern: p.join(" ") };
    }
    return undefined;
  }

  /**
   * Code the guard cannot parse (python, node, awk, a pipe into sh), given to `prog`: denied when
   * it names git and a blocked subcommand within a few words, a guard.deny command, or the rails.
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
      } else if (this.policy.protectRails && isBridgeProgram(b)) {
        const hit = bridgeRails([tokenWord(b), ...near(i).map(tokenWord)], true);
        if (hit) return railsDeny({ ...hit, what: `${hit.what} (named in ${where})` });
      }
      for (const p of this.patterns) {
        if (b !== basename(p[0]!)) continue;
        let k = 1;
        for (const t of near(i)) if (k < p.length && t === p[k]) k++;
        if (k === p.length) return { rule: "deny-pattern", blocked: p.join(" "), pattern: p.join(" "), note: `named in ${where}` };
      }
    }
    if (this.policy.protectRails && text.includes(CONFIG_NAME)) {
      return railsDeny({ blocked: `${prog} … ${CONFIG_NAME}`, what: `may write the automation config (named in ${where})` });
    }
    return undefined;
  }
}

function tokenWord(t: string): ShellWord {
  return { value: t, raw: t, dynamic: false, split: false, pattern: t };
}
