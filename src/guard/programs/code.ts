// Code in another language that the guard does not parse (python -c, perl -e, node -e, awk,
// ruby, php…): it can run a git command only through a primitive that runs programs or code
// (system, exec, subprocess, child_process, backticks, eval…). Without one, text such as
// `print("git push")` is data. With one, a string literal that is a whole shell command is
// judged as a script (`os.system("echo git push")` runs echo); the rest gets the word check
// (git and a blocked subcommand within a few words: `subprocess.run(["git", "push"])`).
import type { ShellState } from "../state.ts";
import type { Checker, Deny } from "../git.ts";
import { settingsNameIn } from "../settings-writes.ts";

export type Lang = "python" | "perl" | "ruby" | "node" | "php" | "lua" | "awk" | "r" | "tcl" | "applescript" | "shell";

// Names are matched as words; each language's ways to start a program or evaluate built code.
const EXEC: Record<Exclude<Lang, "shell">, RegExp> = {
  python:
    /\b(?:system|popen\w*|spawn(?!er)\w*|exec\w*|fork\w*|subprocess|Popen|check_output|check_call|getoutput|getstatusoutput|pty|pexpect|commands|eval|compile|__import__|importlib|getattr|ctypes|multiprocessing|create_subprocess_\w+|run_path|runpy|breakpoint|os\.startfile)\b/,
  perl: /\b(?:system|exec|qx|readpipe|fork|eval|syscall|do|require|open3?|open2|pipe|IPC)\b|`/,
  ruby: /\b(?:system|exec|spawn|fork|popen\w*|Open3|PTY|Kernel|eval|instance_eval|class_eval|module_eval|send|public_send|syscall|IO|Process|load|require)\b|`|%x/,
  node: /\b(?:child_process|exec\w*|spawn(?!er)\w*|fork|eval|Function|process\.binding|dlopen|vm|Deno|Bun|worker_threads|execa|shelljs|zx)\b|\bimport\s*\(|\$`|\brequire\s*\(\s*(?!['"](?:node:)?(?:fs|path|os|util|url|crypto|zlib|stream|events|assert|buffer|querystring|readline|string_decoder|timers|tty|http|https|net|dns)['"])/,
  php: /\b(?:exec|system|shell_exec|passthru|popen|proc_open|pcntl_exec|eval|assert|create_function|call_user_func\w*|include|require\w*)\b|`/,
  lua: /\b(?:os\.execute|io\.popen|load\w*|dofile|require|package)\b/,
  awk: /\bsystem\s*\(|\|/,
  r: /\b(?:system2?|shell|pipe|eval|parse|source|processx)\b/,
  tcl: /\b(?:exec|open|eval|uplevel|interp|source)\b/,
  applescript: /do\s+shell\s+script/i,
};

// Writes to a file: the settings file named in code that does one of these may be changed.
const WRITES =
  /\b(?:write\w*|dump|rename\w*|replace|remove\w*|unlink\w*|rmtree|rmdir|truncate|move|copy\w*|chmod|chown|touch|symlink\w*|link|appendFile\w*|createWriteStream|put_contents|fputs|fwrite|sysopen|syswrite)\b|['"](?:[wax]b?\+?|r\+b?)['"]|open\s*\([^)]*['"][>+]|>{1,2}\s*['"$]/;

export function langOf(program: string): Lang {
  if (/^(?:python|pypy)/.test(program)) return "python";
  if (/^perl/.test(program)) return "perl";
  if (/^ruby/.test(program)) return "ruby";
  if (/^(?:node|nodejs|deno|bun)$/.test(program)) return "node";
  if (/^php/.test(program)) return "php";
  if (/^lua/.test(program)) return "lua";
  if (/awk$/.test(program)) return "awk";
  if (program === "Rscript") return "r";
  if (program === "tclsh") return "tcl";
  if (program === "osascript") return "applescript";
  return "shell"; // pwsh, powershell: a shell, commands run as they are written
}

/** Could this code start a program (or build and run code)? Shells always can. */
export function mayRun(lang: Lang, text: string): boolean {
  return lang === "shell" || EXEC[lang].test(text);
}

/** `code` in `lang` (with `data` it reads, which a pipe to sh may run): does it run a blocked command, or write the settings? */
export function checkCode(
  c: Checker,
  lang: Lang,
  code: string,
  prog: string,
  where: string,
  depth: number,
  st: ShellState,
  inPlace = false,
): Deny | undefined {
  const runs = mayRun(lang, code);
  const named = c.protectSettings ? settingsNameIn(code) : undefined;
  if (named !== undefined && (runs || inPlace || WRITES.test(code)))
    return { rule: "settings", blocked: `${prog} … ${named}`, note: `may write the automation config (named in ${where})` };
  if (!runs) return undefined;
  return judgeLiterals(c, code, prog, where, depth, st);
}

/**
 * String literals that mention git are judged as shell scripts; the code around them (with the
 * literals that proved harmless blanked out) gets the word check.
 */
export function judgeLiterals(c: Checker, code: string, prog: string, where: string, depth: number, st: ShellState): Deny | undefined {
  if (!c.code(code, prog, where)) return undefined;
  // An argument vector (`["echo", "git", "push"]`, `("echo", "git push")`) that starts with a program of data is data.
  let rest = code.replace(ARGV, (m) => (DATA_ARGV.test(m) ? " ".repeat(m.length) : m));
  for (const lit of literals(code)) {
    const body = unquoteEscapes(code.slice(lit.start + 1, lit.end));
    if (!c.code(body, prog, where)) continue;
    const d = c.script(body, depth + 1, false, st.newProcess(false));
    if (d) return { ...d, note: d.note ?? `run by ${where}` };
    rest = rest.slice(0, lit.start) + " ".repeat(lit.end + 1 - lit.start) + rest.slice(lit.end + 1);
  }
  return c.code(rest, prog, where);
}

const STR = String.raw`(?:"(?:[^"\
]|\.)*"|'(?:[^'\
]|\.)*')`;
const ARGV = new RegExp(String.raw`[[(]\s*${STR}(?:\s*,\s*${STR})*\s*,?\s*[\])]`, "g");
const DATA_ARGV = /^[[(]\s*["'](?:[^"']*\/)?(?:echo|printf|cat|grep|true|:)["']/;

/** Quoted regions ('…', "…", `…`) of code in any of the languages, roughly: backslash escapes, no nesting. */
function literals(code: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let i = 0; i < code.length; i++) {
    const q = code[i]!;
    if (q !== "'" && q !== '"' && q !== "`") continue;
    let k = i + 1;
    while (k < code.length && code[k] !== q && code[k] !== "\n") k += code[k] === "\\" ? 2 : 1;
    if (code[k] !== q) continue;
    out.push({ start: i, end: k });
    i = k;
  }
  return out;
}

function unquoteEscapes(s: string): string {
  return s.replace(/\\(.)/g, (_m, ch: string) => (ch === "n" ? "\n" : ch === "t" ? "\t" : ch));
}
