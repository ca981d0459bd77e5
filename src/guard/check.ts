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
import { ShellSyntaxError } from "../shell/parse.ts";
import type { Deny, GuardRule } from "./git.ts";
import { Inspector } from "./inspector.ts";
import type { GuardPolicy } from "./inspector.ts";

export type { GuardPolicy };
import { ShellState } from "./state.ts";

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
    // Claude Code runs the command with `eval` in bash after its shell snapshot, which turns on expand_aliases.
    deny = new Inspector(policy).script(command, 0, true, new ShellState(true));
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
  const cfg = policy.configFile ?? "<BRIDGE_ROOT>/bridge-settings.json";
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
