// Which subcommand a git command line runs, decided the way git.c decides it (cmd_main, run_argv,
// handle_builtin, handle_alias in git 2.39–2.47): `git-<cmd>` by its program name; global options;
// `--help` after any subcommand turning it into `help`; a built-in command before an external
// `git-<cmd>` on the exec path or PATH, and both before an alias; aliases expanded again and again
// (their own `-c` options included) until one names a built-in or an external, loops and
// self-references failing as they fail in git. What git reads from the outside world (its list of
// built-ins, the files on PATH, the configuration) comes from a GitWorld, so this file is pure and
// src/shim/real-git.ts answers for the real git.
import { commandWord, readGlobalOptions, splitAlias } from "./options.ts";

export interface GitWorld {
  /** A built-in command of this git (`git --list-cmds=builtins`). */
  isBuiltin(name: string): boolean;
  /** The external `git-<name>` git would run, looked up on its exec path, then PATH; undefined if none. */
  external(name: string, context: Context): string | undefined;
  /** The configuration git would read in this context: aliases and help.autocorrect. */
  config(context: Context): GitConfig;
}

export interface GitConfig {
  /** The value of alias.<name> (git compares the name without regard to case), undefined if none. */
  alias(name: string): string | undefined;
  /** help.autocorrect as set, or undefined. */
  autocorrect: string | undefined;
}

/** What decides the lookups: the global option words given so far (`-C`, `-c`, `--git-dir`…) and the exec path. */
export interface Context {
  /** Option words in the order git read them: those of the command line, then those of aliases. */
  optionWords: readonly string[];
  execPath: string | undefined;
}

export type Resolution =
  /** A built-in command runs (`help` for `git X --help`). */
  | { kind: "builtin"; name: string; aliases: string[] }
  | { kind: "external"; name: string; path: string; aliases: string[] }
  /** A `!` alias (the last of `aliases`): git runs `text "$@"` with sh, the arguments being `args`. */
  | { kind: "shell-alias"; name: string; text: string; args: string[]; aliases: string[] }
  /** git runs no subcommand: a query, a usage error, an unknown command or a broken alias. */
  | { kind: "none"; why: string; aliases: string[] }
  /** A global option this shim does not know: it cannot tell where the subcommand is. */
  | { kind: "unknown-option"; option: string; aliases: string[] }
  /** An unknown command with help.autocorrect set to run its best guess. */
  | { kind: "autocorrect"; name: string; setting: string; aliases: string[] };

// In every result, `aliases` lists the names expanded as aliases on the way, in order.

/** help.autocorrect values that never run a guess (unset, "0", "never", and the words newer gits take for "show"). */
const AUTOCORRECT_SAFE = new Set(["0", "never", "show", "false", "no", "off"]);

export function resolveGit(argv0: string, args: readonly string[], world: GitWorld): Resolution {
  const program = argv0.slice(argv0.lastIndexOf("/") + 1);
  const aliases: string[] = [];
  // "git-xxxx" is git xxxx as a built-in only: no options, no externals, no aliases (cmd_main).
  if (program.startsWith("git-")) {
    const name = program.slice(4);
    if (args[0] === "--help") return { kind: "builtin", name: "help", aliases };
    return world.isBuiltin(name)
      ? { kind: "builtin", name, aliases }
      : { kind: "none", why: `git cannot handle ${name} as a builtin`, aliases };
  }
  const top = readGlobalOptions(args);
  if (top.unknown !== undefined) return { kind: "unknown-option", option: top.unknown, aliases };
  if (top.stop !== undefined) return { kind: "none", why: top.stop, aliases };
  if (top.rest.length === 0) return { kind: "none", why: "no subcommand: git prints its usage", aliases };
  let argv = [commandWord(top.rest[0]!), ...top.rest.slice(1)];
  const context: Context = { optionWords: [...top.words], execPath: top.execPath };
  for (;;) {
    const name = argv[0]!;
    const expanded = aliases.length > 0;
    // handle_builtin turns `git X --help` into `git help X` for any X, before looking X up; after
    // an alias, a built-in runs as a new `git …` process, which does the same.
    if (argv[1] === "--help" && (!expanded || world.isBuiltin(name))) return { kind: "builtin", name: "help", aliases };
    if (world.isBuiltin(name)) return { kind: "builtin", name, aliases };
    const path = world.external(name, context);
    if (path !== undefined) return { kind: "external", name, path, aliases };
    if (aliases.includes(name)) return { kind: "none", why: `alias loop detected: expansion of ${aliases[0]} does not terminate`, aliases };
    const config = world.config(context);
    const value = config.alias(name);
    if (value === undefined) {
      if (expanded) return { kind: "none", why: `expansion of alias ${aliases[0]} failed; ${name} is not a git command`, aliases };
      const setting = config.autocorrect;
      if (setting !== undefined && !AUTOCORRECT_SAFE.has(setting.trim().toLowerCase()))
        return { kind: "autocorrect", name, setting, aliases };
      return { kind: "none", why: `${name} is not a git command`, aliases };
    }
    aliases.push(name);
    if (value.startsWith("!")) return { kind: "shell-alias", name, text: value.slice(1), args: argv.slice(1), aliases };
    const words = splitAlias(value);
    if (!Array.isArray(words)) return { kind: "none", why: `bad alias.${name} string: ${words.error}`, aliases };
    const inner = readGlobalOptions(words);
    if (inner.unknown !== undefined) return { kind: "unknown-option", option: inner.unknown, aliases };
    if (inner.stop !== undefined) return { kind: "none", why: `alias ${name}: ${inner.stop}`, aliases };
    // An alias whose options change the environment (-C, --git-dir…) makes git die; it is
    // followed anyway, so a git that does not die would not run anything unchecked.
    if (inner.rest.length === 0) return { kind: "none", why: `empty alias for ${name}`, aliases };
    if (inner.rest[0] === name) return { kind: "none", why: `recursive alias: ${name}`, aliases };
    context.optionWords = [...context.optionWords, ...inner.words];
    if (inner.execPath !== undefined) context.execPath = inner.execPath;
    argv = [...inner.rest, ...argv.slice(1)];
  }
}
