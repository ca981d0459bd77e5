// The text of the git shim: a POSIX sh script that a bridged session finds first on PATH as `git`.
// A node start costs tens of milliseconds and a git call a few, so the common case never starts
// node: a call whose subcommand is a built-in the policy allows (`git status`, `git -C dir log`)
// execs the real git at once. That fast path is exact because git runs a built-in before any
// alias or external of the same name, whatever the configuration says, and `git X --help` is
// `git help X`; and it is taken only when the real git found now is the very file whose built-ins
// were listed. Anything else (another subcommand, an option it does not know, a renamed git)
// asks `session-bridge git-shim`, which resolves the call exactly (src/git-shim.ts) and exits 0
// to let the real git run or non-zero to refuse. The policy is written into the script, never read
// from the caller's environment: a command cannot unset BRIDGE_PROJECT to get past it.

import { SHIM_MARK } from "./env-file.ts";

export interface ShimSpec {
  /** Absolute path the script is written to. */
  self: string;
  /** The real git whose built-ins `fast` lists; without it every call asks the decider. */
  realGit?: string;
  /** Built-ins that may run without asking: the policy allows them. */
  fast: readonly string[];
  /** Whether `help` is among them (then `git X --help` is fast too). */
  helpFast: boolean;
  /** The argv that runs `session-bridge` (node and the script, or the single executable). */
  decider: readonly string[];
  /** What the decider is told: --block-git, --root, --admin. */
  policy: readonly string[];
  /** One line saying what the policy is, for people reading the file. */
  summary: string;
}

export function shQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

// git's global options (src/shim/options.ts), in sh patterns: with a value, and without.
const VALUE_OPTIONS = "-C|-c|--git-dir|--work-tree|--namespace|--config-env|--super-prefix|--shallow-file|--attr-source";
const PLAIN_OPTIONS =
  "-p|--paginate|-P|--no-pager|--no-replace-objects|--no-lazy-fetch|--bare|--literal-pathspecs|--no-literal-pathspecs|" +
  "--glob-pathspecs|--noglob-pathspecs|--icase-pathspecs|--no-optional-locks|--no-advice|" +
  "--git-dir=*|--work-tree=*|--namespace=*|--config-env=*|--super-prefix=*|--attr-source=*|--exec-path=*";
const COMMAND_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function renderShim(spec: ShimSpec): string {
  const decider = spec.decider.map(shQuote).join(" ");
  const program = spec.decider.at(-1)!;
  const fast = spec.fast.filter((c) => COMMAND_NAME.test(c));
  const lines = [
    "#!/bin/sh",
    `${SHIM_MARK}: written by \`session-bridge hook recv\` at SessionStart of a bridged Claude Code session; do not edit.`,
    // A comment line: one line, whatever the regex or error in it holds.
    `# ${spec.summary.replace(/[\r\n]+/g, " ")}`,
    `sb_self=${shQuote(spec.self)}`,
    "# The real git: the first on PATH after the last entry holding this shim (so no loop, whatever PATH says).",
    "sb_real=",
    "sb_rest=${PATH-/usr/bin:/bin}:",
    'while [ -n "$sb_rest" ]; do',
    "  sb_d=${sb_rest%%:*}",
    "  sb_rest=${sb_rest#*:}",
    "  sb_f=${sb_d:-.}/git",
    '  if [ -f "$sb_f" ] && [ -x "$sb_f" ]; then',
    '    if [ "$sb_f" -ef "$sb_self" ]; then sb_real=; elif [ -z "$sb_real" ]; then sb_real=$sb_f; fi',
    "  fi",
    "done",
    'if [ -z "$sb_real" ]; then',
    "  printf 'session-bridge git shim: no git on PATH after %s\\n' \"$sb_self\" >&2",
    "  exit 127",
    "fi",
  ];
  if (spec.realGit !== undefined && fast.length > 0) {
    lines.push(
      "# Fast path: a built-in the policy allows, run by the git whose built-ins were listed.",
      `if [ "\${0##*/}" = git ] && [ "$sb_real" -ef ${shQuote(spec.realGit)} ]; then`,
      "  sb_s=o sb_cmd= sb_next=",
      "  for sb_a do",
      "    case $sb_s in c) sb_next=$sb_a; break ;; v) sb_s=o; continue ;; esac",
      "    case $sb_a in",
      `      ${VALUE_OPTIONS}) sb_s=v ;;`,
      `      ${PLAIN_OPTIONS}) ;;`,
      "      --help|-h) sb_cmd=help sb_s=c ;;",
      "      --version|-v) sb_cmd=version sb_s=c ;;",
      "      -*) break ;;",
      "      *) sb_cmd=$sb_a sb_s=c ;;",
      "    esac",
      "  done",
      `  [ "$sb_next" = --help ] && sb_cmd=${spec.helpFast ? "help" : ""}`,
      '  if [ "$sb_s" = c ]; then',
      "    case $sb_cmd in",
      `      ${fast.join("|")}) exec "$sb_real" "$@" ;;`,
      "    esac",
      "  fi",
      "fi",
    );
  }
  lines.push(
    "# Anything else: session-bridge decides (exit 0: run it; otherwise it said why not on stderr).",
    `if [ ! -f ${shQuote(program)} ]; then`,
    `  printf '%s\\n' ${shQuote(`session-bridge git shim: ${program} is gone (moved or deleted?), so this git call cannot be checked and is refused; run \`session-bridge install\` again, then start a new Claude Code session`)} >&2`,
    "  exit 126",
    "fi",
    `(unset NODE_OPTIONS; exec ${decider} git-shim ${spec.policy.map(shQuote).join(" ")} -- "$sb_real" "$0" "$@") || exit`,
    'case ${0##*/} in git-?*) sb_n=${0##*/}; set -- "${sb_n#git-}" "$@" ;; esac',
    'exec "$sb_real" "$@"',
    "",
  );
  return lines.join("\n");
}

/** The lines the session's env file gets: this folder first on PATH. */
export function envFileText(shimDir: string): string {
  return `${SHIM_MARK} first on PATH for this bridged session (rewritten at every SessionStart)\nexport PATH=${shQuote(shimDir)}:"$PATH"\n`;
}
