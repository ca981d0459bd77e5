/**
 * guard: is this Bash command allowed in a bridged session? A pure decision (no fs, env,
 * process), called by `session-bridge hook guard` (PreToolUse, Bash) with tool_input.command.
 *
 *   checkCommand(command, policy): GuardVerdict      never throws; unparsable input is denied
 *   parseBlockGit(BRIDGE_BLOCK_GIT): RegExp          throws BridgeError E_CONFIG on a bad regex
 *   DEFAULT_BLOCK_GIT = /^(commit|push|reset)$/
 *
 * How: the command is parsed as bash (src/shell-words.ts) into every simple command that could
 * run — through ; && || | & newlines, ( ) { }, if/while/for/case bodies, functions, $( ) and
 * backticks (nested, in double quotes, in unquoted here-documents), <( ), brace expansion,
 * quoting ("git" 'push' g\it $'\x67it'), backslash-newline. Each command is unwrapped through
 * sudo/env/nohup/time/timeout/nice/exec/command/xargs/find -exec/npx… and shells (sh/bash -c,
 * -lc, a here-document or pipe fed to a shell), eval and alias bodies, then checked.
 *
 * Decisions:
 * - git is any program whose file name is `git` (/usr/bin/git, ./git). The subcommand is the
 *   first word after git's global options (-C x, -c k=v, --git-dir[=]x, --no-pager…), matched
 *   whole against policy.blockGit. `git-commit` (the legacy dash form, still runnable from
 *   `git --exec-path`) counts as `git commit`; `gitk`, `git-lfs` do not match.
 * - Aliases from the user's git config cannot be resolved purely: they are not. Aliases made
 *   in the command itself are: `git -c alias.x=push x`, `git config alias.x '!git push'`.
 * - A subcommand known only at run time (`git $sub`, `git pu*`, `echo push | xargs git`) and a
 *   program that is an unquoted expansion (`$X push`, which may be `git push`) are denied;
 *   quoting the program (`"$PYTHON" x.py`) lets it through unless its arguments look like a
 *   blocked git call.
 * - Arguments of echo/printf/grep/cat…, here-document bodies given to them, comments and
 *   single-quoted text are data. `git --help push`, `git --version` run nothing.
 * - Interpreter code (python -c, node -e, perl/ruby/php/awk, a here-doc or pipe fed to them) is
 *   not parsed; it is denied when it names git and a blocked subcommand within a few words, a
 *   guard.deny pattern, or the rails. Conservative: `python -c "print('git push')"` is denied.
 * - guard.deny patterns ("kubectl apply") match as words: the program's file name, then the
 *   other words in order anywhere among its arguments (`terraform -chdir=x apply`).
 * - BRIDGE_BLOCK_GIT: a regex matched against the whole subcommand (implicitly ^(?:…)$).
 *   Unset or empty (only blanks) means the default: an empty value is more likely an unset
 *   variable than a wish to allow everything (`session-bridge install --no-block-git` is that).
 * Limits: scripts run from files (bash x.sh, make, npm run) are not read; variable values are
 * unknown; git aliases and help.autocorrect from the user's config; remote/container shells
 * other than ssh (docker exec, kubectl exec); tmux send-keys; decoding tricks (base64 | sh).
 */
import { BridgeError } from "./errors.ts";
import { parseShell, ShellSyntaxError, DYN, type ShellCommand, type ShellWord } from "./shell-words.ts";
import { basename, couldBe, couldBeProgram, dynamicWord, INTERPRETER, scanOptions, scriptText, shellInvocation, SHELLS, unwrap } from "./guard-programs.ts";
import { bridgeRails, BRIDGE_NAMES, CONFIG_NAME, fileRails, isBridgeProgram, redirectRails, type RailsHit } from "./guard-rails.ts";

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

export type GuardRule = "git" | "deny-pattern" | "rails" | "unparsable";
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

interface Deny {
  rule: GuardRule;
  blocked: string;
  note?: string;
  pattern?: string;
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

/** Options after which git runs nothing but prints (help, version, paths). */
const GIT_NO_RUN = new Set(["-h", "--help", "-v", "--version", "--html-path", "--man-path", "--info-path", "--exec-path"]);
const GIT_ARG_OPTS = new Set(["-C", "-c", "--git-dir", "--work-tree", "--namespace", "--super-prefix", "--config-env", "--attr-source", "--list-cmds"]);
const EXEC_ACTIONS = new Set(["-exec", "-execdir", "-ok", "-okdir"]);
const CODE_TOKEN_SPLIT = /[^A-Za-z0-9_./@+-]+/;
const WINDOW = 8;

class Inspector {
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
    return this.words(cmd.words, cmd, depth, cmd.assigns);
  }

  private words(ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[]): Deny | undefined {
    for (let hops = 0; ws.length > 0; hops++) {
      if (hops > 16) throw new ShellSyntaxError("commands wrapped too deeply");
      const pat = this.denyPattern(ws);
      if (pat) return pat;
      const prog = ws[0]!;
      if (prog.dynamic) return this.unknownProgram(ws, cmd, depth, assigns);
      const name = basename(prog.value);
      const step = unwrap(name, ws, cmd.upstream ? upstreamText(cmd) : "");
      if (!step) return this.program(name, ws, cmd, depth, assigns);
      for (const s of step.scripts) {
        const d = this.script(s, depth + 1, true);
        if (d) return d;
      }
      ws = step.inner;
      assigns = step.assigns.length ? [...assigns, ...step.assigns] : assigns;
    }
    return undefined;
  }

  private program(name: string, ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[]): Deny | undefined {
    let d: Deny | undefined;
    if (SHELLS.has(name)) return this.shell(ws, cmd, depth);
    if (name === "eval") return this.script(scriptText(ws.slice(1).map((w) => w.value).join(" ")), depth + 1, true);
    if (name === "source" || name === ".") d = this.sourced(ws, cmd, depth);
    else if (name === "alias") d = this.aliasBodies(ws, depth);
    else if (name === "git" || name.startsWith("git-")) d = this.git(ws, cmd, depth, assigns);
    else if (name === "find") d = this.findExec(ws, cmd, depth);
    else if (INTERPRETER.test(name)) {
      const inv = interpreterInvocation(ws);
      const texts = [ws.slice(1).map((w) => w.value).join(" ")];
      // stdin is the program only without inline code and a script file; otherwise it is data
      if (inv.codeFromStdin) texts.push(...stdinTexts(cmd), upstreamText(cmd));
      d = this.code(texts.join("\n"), `${name} code`);
      const script = inv.script;
      if (!d && script && isBridgeProgram(basename(script[0]!.value))) d = this.words(script, cmd, depth, assigns);
    }
    if (d || !this.policy.protectRails) return d;
    const hit = (isBridgeProgram(name) ? bridgeRails(ws, true) : undefined) ?? fileRails(name, ws);
    return hit ? railsDeny(hit) : undefined;
  }

  /** A program known only at run time: it may be git, session-bridge, or a guard.deny program. */
  private unknownProgram(ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[]): Deny | undefined {
    const prog = ws[0]!;
    if (prog.split) {
      const blocked = ws.slice(0, 2).map((w) => w.raw).join(" ");
      return { rule: "git", blocked, note: "the program is an unquoted expansion, which may be several words such as `git push`; quote it" };
    }
    if (couldBeProgram(prog, "git")) {
      const d = this.git(ws, cmd, depth, assigns);
      if (d) return { ...d, note: d.note ?? `the program ${prog.raw} may be git` };
    }
    if (!this.policy.protectRails) return undefined;
    const hit = (BRIDGE_NAMES.some((n) => couldBeProgram(prog, n)) ? bridgeRails(ws, false) : undefined) ?? fileRails("", ws);
    return hit ? railsDeny(hit) : undefined;
  }

  private blockedSub(sub: string): boolean {
    this.policy.blockGit.lastIndex = 0;
    return this.policy.blockGit.test(sub);
  }

  private git(ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[]): Deny | undefined {
    const name = basename(ws[0]!.value);
    if (!ws[0]!.dynamic && name.startsWith("git-")) {
      const sub = name.slice(4);
      return this.blockedSub(sub) ? { rule: "git", blocked: `git ${sub}`, note: `run as ${name}` } : undefined;
    }
    const aliases = new Map<string, string | null>();
    let unknownConfig = assigns.some((a) => /^GIT_CONFIG/.test(a.value) && (a.dynamic || /alias|autocorrect/i.test(a.value)));
    let i = 1;
    let sub: ShellWord | undefined;
    for (; i < ws.length; i++) {
      const w = ws[i]!;
      if (w.split) return { rule: "git", blocked: `git ${w.raw}`, note: "an unquoted expansion before the subcommand may hide it" };
      const v = w.value;
      if (!v.startsWith("-")) {
        sub = w;
        break;
      }
      if (GIT_NO_RUN.has(v)) return undefined;
      if (GIT_ARG_OPTS.has(v)) {
        const val = ws[++i];
        if (val?.split) return { rule: "git", blocked: `git ${v} ${val.raw}`, note: "an unquoted expansion before the subcommand may hide it; quote it" };
        if (val && (v === "-c" || v === "--config-env")) unknownConfig = gitConfigArg(val.value, aliases) || unknownConfig;
      } else if (v.startsWith("--config-env=")) unknownConfig = gitConfigArg(v.slice(13), aliases) || unknownConfig;
    }
    if (!sub) return undefined;
    if (sub.dynamic) return { rule: "git", blocked: `git ${sub.raw}`, note: "the subcommand is only known at run time" };
    let subName = sub.value;
    for (let hop = 0; aliases.has(subName.toLowerCase()) && hop < 8; hop++) {
      const body = aliases.get(subName.toLowerCase());
      if (body === null || body === undefined) return { rule: "git", blocked: `git ${subName}`, note: "an alias whose value is only known at run time" };
      if (body.startsWith("!")) return this.script(scriptText(body.slice(1)), depth + 1, true);
      subName = body.trim().split(/\s+/)[0] ?? "";
    }
    if (this.blockedSub(subName)) return { rule: "git", blocked: `git ${subName}`, ...(subName !== sub.value ? { note: `alias ${sub.value}` } : {}) };
    if (unknownConfig) return { rule: "git", blocked: `git ${subName}`, note: "git config given with the command may turn it into another command" };
    const args = ws.slice(i + 1);
    switch (subName) {
      case "config":
        return this.gitAliasDefinition(args, depth);
      case "submodule": {
        const at = args.findIndex((a) => a.value === "foreach");
        const rest = at < 0 ? [] : args.slice(at + 1).filter((a) => !a.value.startsWith("--"));
        return rest.length ? this.script(scriptText(rest.map((a) => a.value).join(" ")), depth + 1, true) : undefined;
      }
      case "rebase":
        for (let k = 0; k < args.length; k++) {
          const v = args[k]!.value;
          const exec = v === "-x" || v === "--exec" ? args[++k]?.value : v.startsWith("--exec=") ? v.slice(7) : undefined;
          const d = exec === undefined ? undefined : this.script(scriptText(exec), depth + 1, true);
          if (d) return d;
        }
        return undefined;
      case "bisect":
        return args[0]?.value === "run" ? this.words(args.slice(1), cmd, depth, []) : undefined;
      default:
        return undefined;
    }
  }

  /** `git config [--global] alias.x VALUE` (or `git config set …`): the alias must not run a blocked subcommand. */
  private gitAliasDefinition(args: ShellWord[], depth: number): Deny | undefined {
    const o = scanOptions(args, 0, { arg: "f", long: ["--file", "--blob", "--type", "--default", "--comment", "--value"] });
    const operands = args.slice(o.at).filter((a) => !a.value.startsWith("-"));
    if (operands[0]?.value === "set") operands.shift();
    const [key, val] = operands;
    if (!key || !val || !/^alias\./i.test(key.value)) return undefined;
    const alias = key.value.slice(6);
    if (val.dynamic) return { rule: "git", blocked: `git config ${key.raw} ${val.raw}`, note: "defines an alias whose value is only known at run time" };
    const body = val.value.trim();
    if (body.startsWith("!")) {
      const d = this.script(scriptText(body.slice(1)), depth + 1, false) ?? this.code(body.slice(1), `alias ${alias}`);
      return d ? { ...d, note: `defines alias ${alias}` } : undefined;
    }
    const first = body.split(/\s+/)[0] ?? "";
    return this.blockedSub(first) ? { rule: "git", blocked: `git ${first}`, note: `defines alias ${alias}` } : undefined;
  }

  private shell(ws: ShellWord[], cmd: ShellCommand, depth: number): Deny | undefined {
    const inv = shellInvocation(ws);
    if (inv.script !== undefined) return this.script(inv.script, depth + 1, true);
    if (!inv.readsStdin) {
      // A script file is not read; a <( ) whose output is run as the script gets the token check.
      const file = ws.find((w, k) => k > 0 && w.raw.startsWith("<("));
      return file ? this.code(file.raw, "process substitution run as a script") : undefined;
    }
    return this.stdinScript(cmd, depth);
  }

  /** Input that a shell runs as its script: here-documents exactly, a pipe's producer by tokens. */
  private stdinScript(cmd: ShellCommand, depth: number): Deny | undefined {
    for (const body of stdinTexts(cmd)) {
      const d = this.script(body, depth + 1, true);
      if (d) return d;
    }
    if (!cmd.upstream) return undefined;
    const text = upstreamText(cmd);
    return this.script(text, depth + 1, false) ?? this.code(text, "piped into a shell");
  }

  private sourced(ws: ShellWord[], cmd: ShellCommand, depth: number): Deny | undefined {
    const file = ws[1];
    if (!file) return undefined;
    if (file.value === "/dev/stdin" || file.value === "-") return this.stdinScript(cmd, depth);
    return file.raw.startsWith("<(") ? this.code(file.raw, "process substitution run as a script") : undefined;
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

  /** Code the guard cannot parse (python, node, awk, a pipe into sh): denied when it names a blocked command. */
  private code(text: string, where: string): Deny | undefined {
    const tokens = text.split(CODE_TOKEN_SPLIT);
    for (let i = 0; i < tokens.length; i++) {
      const b = basename(tokens[i]!);
      const near = tokens.slice(i + 1, i + 1 + WINDOW);
      if (b === "git") {
        const sub = near.find((t) => this.blockedSub(t));
        if (sub !== undefined) return { rule: "git", blocked: `git ${sub}`, note: `named in ${where}` };
      } else if (b.startsWith("git-") && this.blockedSub(b.slice(4))) {
        return { rule: "git", blocked: `git ${b.slice(4)}`, note: `named in ${where}` };
      }
      for (const p of this.patterns) {
        if (b !== basename(p[0]!)) continue;
        let k = 1;
        for (const t of near) if (k < p.length && t === p[k]) k++;
        if (k === p.length) return { rule: "deny-pattern", blocked: p.join(" "), pattern: p.join(" "), note: `named in ${where}` };
      }
      if (this.policy.protectRails && isBridgeProgram(b)) {
        const hit = bridgeRails([tokenWord(b), ...near.map(tokenWord)], true);
        if (hit) return railsDeny({ ...hit, what: `${hit.what} (named in ${where})` });
      }
    }
    if (this.policy.protectRails && text.includes(CONFIG_NAME)) {
      return railsDeny({ blocked: `${where.split(" ")[0]} … ${CONFIG_NAME}`, what: `may write the automation config (named in ${where})` });
    }
    return undefined;
  }
}

/**
 * `-c key=value` given to git: records `alias.NAME=VALUE` (null when the value is unknown) and
 * answers true when the setting may turn the subcommand into another one that cannot be known
 * (an unknown key, or help.autocorrect, which runs the closest command to a typo).
 */
function gitConfigArg(setting: string, aliases: Map<string, string | null>): boolean {
  const eq = setting.indexOf("=");
  const key = (eq < 0 ? setting : setting.slice(0, eq)).toLowerCase();
  if (key.includes(DYN)) return true;
  if (key.startsWith("alias.")) {
    const val = eq < 0 ? "" : setting.slice(eq + 1);
    aliases.set(key.slice(6), val.includes(DYN) ? null : val);
    return false;
  }
  if (key === "help.autocorrect") return !/^(0|false|no|off|never|show)$/i.test(eq < 0 ? "" : setting.slice(eq + 1));
  return false;
}

function tokenWord(t: string): ShellWord {
  return { value: t, raw: t, dynamic: false, split: false, pattern: t };
}

/** Here-document bodies and here-strings: what the command reads on stdin. */
function stdinTexts(cmd: ShellCommand): string[] {
  const out: string[] = [];
  for (const r of cmd.redirects) {
    if (r.op === "<<" || r.op === "<<-") out.push(r.body ?? "");
    else if (r.op === "<<<") out.push(scriptText(r.target.value));
  }
  return out;
}

/** What the previous pipeline stage may print: its arguments and here-documents, one command a line. */
function upstreamText(cmd: ShellCommand): string {
  if (!cmd.upstream) return "";
  return cmd.upstream.map((c) => [c.words.slice(1).map((w) => scriptText(w.value)).join(" "), ...stdinTexts(c)].join("\n")).join("\n");
}

interface InterpreterInvocation {
  /** `SCRIPT args` when the program comes from a file (node x.mjs, python y.py). */
  script?: ShellWord[];
  codeFromStdin: boolean;
}

const INLINE_CODE = new Set(["-e", "-E", "-c", "-p", "-r", "--eval", "--print"]);

/** `node [options] SCRIPT args`, `python -c CODE`, `perl -e CODE`, `python3 - <<EOF`… */
function interpreterInvocation(ws: ShellWord[]): InterpreterInvocation {
  const o = scanOptions(ws, 1, { arg: "rCm", long: ["--require", "--import", "--loader", "--experimental-loader", "--conditions"] });
  if (o.seen.some(([n]) => INLINE_CODE.has(n))) return { codeFromStdin: false };
  const rest = ws.slice(o.at);
  if (rest.length === 0 || rest[0]!.value === "-") return { codeFromStdin: true };
  return { script: rest, codeFromStdin: false };
}
