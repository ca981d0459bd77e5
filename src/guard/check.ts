/**
 * guard: is this Bash command allowed in a bridged session? A pure decision (no fs, env,
 * process), called by `session-bridge hook guard` (PreToolUse, Bash) with tool_input.command.
 *
 *   checkCommand(command, policy): GuardVerdict      never throws; unparsable input is denied
 *   parseBlockGit(BRIDGE_BLOCK_GIT): RegExp          throws BridgeError E_CONFIG on a bad regex
 *   DEFAULT_BLOCK_GIT = /^(commit|push|reset)$/
 *
 * How: the command is parsed as bash does (src/shell/: blanks are space and tab only; quoting,
 * $'…', braces and sequences, comments) into every simple command that could run, in execution
 * order, and walked with the state earlier commands leave (inspector.ts, state.ts): aliases from
 * the next line on (Claude Code runs the command with `eval` in bash after a shell snapshot that
 * sets expand_aliases — seen in @anthropic-ai/claude-code 2.1.328), functions where called with
 * their arguments, hash -p, traps at the end, descriptors from `exec N<`, git configuration in
 * the environment. Each command is unwrapped through wrappers (programs.ts), then judged
 * (run.ts): shells and the scripts they read from text in the command (feeds.ts: -c strings,
 * here-documents, here-strings, pipes from echo/printf/cat, <( ), /dev/stdin, /dev/fd/N), eval,
 * source, git (git.ts, git-config.ts), programs that run command strings (tools.ts, sed.ts:
 * sed e, make, vim/ex/ed, gdb, tar, ssh -o), interpreters (code.ts), builtins that evaluate
 * names or arithmetic (builtins.ts), changes to the automation settings (settings-writes.ts).
 *
 * Decisions:
 * - git is any program whose file name is `git` (/usr/bin/git, ./git, a hashed name, a script
 *   run by a shell). The subcommand is the first word after git's global options, matched
 *   whole against policy.blockGit, after what the configuration given in the command makes of
 *   it (git's own commands first, then aliases, then help.autocorrect); `-h`/`--help` among its
 *   options, `git help x`, `git --version` run nothing. `git-commit` counts as `git commit`.
 * - A value only known at run time where it decides (`git $sub`, `$X push`, an alias value,
 *   `${x@P}`, text from a variable piped into a shell) is denied; the reason says to write the
 *   command literally, quote it or split it. A quoted variable program (`"$PYTHON" x.py`) is
 *   checked as if it might be git, session-bridge or a function of the command.
 * - Arguments of echo/printf/grep/cat/man…, here-documents given to them, comments and quoted
 *   text are data. Any other program given `git …` as arguments is taken to run it (`docker run
 *   img git push`, `kubectl exec pod -- git push`).
 * - Interpreter code counts only when it can start a program (code.ts); text that git or bash
 *   runs from a variable (GIT_EDITOR, PAGER, -c core.pager) or that tmux types is judged by its
 *   words: git and a blocked subcommand within 8 words, a guard.deny command, a settings change.
 * - guard.deny patterns ("kubectl apply") match as words: the program's file name, then the
 *   other words in order anywhere among its arguments (`terraform -chdir=x apply`).
 * - BRIDGE_BLOCK_GIT: a regex matched against the whole subcommand (implicitly ^(?:…)$).
 *   Unset or blank means the default: a blank value is more likely an unset variable than a
 *   wish to allow everything (`session-bridge install --no-block-git` is that).
 * Limits: scripts run from files (bash x.sh, a Makefile on disk, npm run, git hooks) are not
 * read; values from outside the command are unknown; git aliases and help.autocorrect from the
 * user's config files are not known; decoding tricks (base64 -d | sh, rev) are not seen through.
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
    case "settings":
      return (
        `session-bridge guard: \`${d.blocked}\` is blocked in this bridged session: it ${d.note}. A bridged ` +
        `session may not change the bridge's automation settings: ${human}, or from a session started with BRIDGE_ADMIN=1.`
      );
    case "unparsable":
      return (
        `session-bridge guard: this command could not be parsed${via}, so the guard cannot tell whether it runs a ` +
        `blocked command, and a bridged session fails closed. Fix the quoting or split it into simpler commands; ` +
        `or a human can run it in a terminal.`
      );
  }
}
