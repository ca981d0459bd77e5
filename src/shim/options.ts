// git's own reading of a command line up to the subcommand: the global options of git.c
// handle_options and the word splitting of an alias value (alias.c split_cmdline). The shim must
// stop exactly where git stops, so these follow git's source (2.39 to 2.47) and are checked
// against git 2.39.5 itself (test/shim/shim-resolve.test.ts runs both on the same words).

/** Options that take the next word as their value (`-C dir`, `-c k=v`). */
const WITH_VALUE = new Set([
  "-C",
  "-c",
  "--git-dir",
  "--work-tree",
  "--namespace",
  "--config-env",
  "--super-prefix",
  "--shallow-file",
  "--attr-source",
]);
/** The same options written `--name=value`, in one word. */
const JOINED = ["--git-dir=", "--work-tree=", "--namespace=", "--config-env=", "--super-prefix=", "--attr-source=", "--exec-path="];
/** Options without a value. */
const FLAGS = new Set([
  "-p",
  "--paginate",
  "-P",
  "--no-pager",
  "--no-replace-objects",
  "--no-lazy-fetch",
  "--bare",
  "--literal-pathspecs",
  "--no-literal-pathspecs",
  "--glob-pathspecs",
  "--noglob-pathspecs",
  "--icase-pathspecs",
  "--no-optional-locks",
  "--no-advice",
]);
/** Options that print something and exit: no subcommand runs. */
const QUERIES = new Set(["--html-path", "--man-path", "--info-path"]);
/** Words that end the options and name a command: `git --help push` is `git help push`. */
const COMMAND_WORDS: Record<string, string> = { "--help": "help", "-h": "help", "--version": "version", "-v": "version" };

export interface GlobalOptions {
  /** The option words read, verbatim, in order (to hand to another git run in the same context). */
  words: string[];
  /** What follows the options: the subcommand and its arguments. */
  rest: string[];
  /** The last `--exec-path=DIR`. */
  execPath?: string;
  /** The `-C` values, in order (an empty one changes nothing, as in git). */
  chdirs: string[];
  /** Why git runs no subcommand at all: a query option, or a usage error. */
  stop?: string;
  /** An option this table does not know: git 2.39 fails on it, a newer git might not. */
  unknown?: string;
}

/**
 * Reads global options from the front of `args` as git's handle_options does. Only the first
 * word of `rest` may be one of --help/-h/--version/-v; the caller maps those at the top level
 * (git does so in cmd_main, not inside aliases).
 */
export function readGlobalOptions(args: readonly string[]): GlobalOptions {
  const out: GlobalOptions = { words: [], rest: [], chdirs: [] };
  let i = 0;
  for (; i < args.length; i++) {
    const word = args[i]!;
    if (!word.startsWith("-") || Object.hasOwn(COMMAND_WORDS, word)) break;
    if (word.startsWith("--exec-path") && !word.startsWith("--exec-path=")) return { ...out, stop: `${word} prints the exec path` };
    if (word.startsWith("--list-cmds=")) return { ...out, stop: `${word} lists commands` };
    if (QUERIES.has(word)) return { ...out, stop: `${word} prints a path` };
    if (FLAGS.has(word)) {
      out.words.push(word);
      continue;
    }
    const joined = JOINED.find((p) => word.startsWith(p));
    if (joined) {
      out.words.push(word);
      if (joined === "--exec-path=") out.execPath = word.slice(joined.length);
      continue;
    }
    if (WITH_VALUE.has(word)) {
      const value = args[i + 1];
      if (value === undefined) return { ...out, stop: `${word} without its value is a usage error` };
      out.words.push(word, value);
      if (word === "-C" && value !== "") out.chdirs.push(value);
      i++;
      continue;
    }
    return { ...out, unknown: word };
  }
  out.rest = args.slice(i);
  return out;
}

/** `--help` → `help` and `--version` → `version`, as cmd_main does for the first word after the options. */
export function commandWord(word: string): string {
  return Object.hasOwn(COMMAND_WORDS, word) ? COMMAND_WORDS[word]! : word;
}

/** git's isspace (git-compat-util.h): space, tab, newline and carriage return; not \v or \f. */
const GIT_SPACE = new Set([" ", "\t", "\n", "\r"]);

/**
 * An alias value split into words as alias.c split_cmdline does: blanks separate words (a leading
 * or trailing blank makes an empty word), '…' and "…" quote, a backslash escapes the next
 * character outside single quotes. A trailing backslash or an unclosed quote is an error.
 */
export function splitAlias(text: string): string[] | { error: string } {
  const words: string[] = [];
  let word = "";
  let quoted = "";
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (!quoted && GIT_SPACE.has(c)) {
      words.push(word);
      word = "";
      while (i + 1 < text.length && GIT_SPACE.has(text[i + 1]!)) i++;
      i++;
    } else if (!quoted && (c === "'" || c === '"')) {
      quoted = c;
      i++;
    } else if (c === quoted) {
      quoted = "";
      i++;
    } else {
      let ch = c;
      if (c === "\\" && quoted !== "'") {
        i++;
        if (i >= text.length) return { error: "cmdline ends with \\" };
        ch = text[i]!;
      }
      word += ch;
      i++;
    }
  }
  if (quoted) return { error: "unclosed quote" };
  words.push(word);
  return words;
}
