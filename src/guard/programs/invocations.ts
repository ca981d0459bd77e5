// How shells and interpreters were invoked (where their code comes from), and what the
// previous stage of a pipe gives a command, as words for messages and the word check.
import type { ShellCommand, ShellWord } from "../../shell/parse.ts";
import { basename, scanOptions, scriptText } from "../programs.ts";

export const SHELLS = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "posh", "fish", "rbash"]);
export const INTERPRETER =
  /^(?:python[0-9.]*|pypy[0-9.]*|node|nodejs|deno|bun|perl[0-9.]*|ruby[0-9.]*|php[0-9.]*|lua[0-9.]*|luajit|Rscript|osascript|pwsh|powershell|tclsh|awk|gawk|mawk|nawk)$/;

export interface ShellInvocation {
  /** The -c script, if any. */
  script?: string;
  /** The script file operand (`bash x.sh`, `bash /dev/stdin`, `bash <(…)`), if any. */
  file?: ShellWord;
  /** True when the shell reads its script from stdin (no -c and no script file). */
  readsStdin: boolean;
  /** `-n` (or -o noexec): read, never run. */
  noexec: boolean;
  /** `-O expand_aliases`, `-i`, `-o posix`: aliases apply in this shell. */
  aliases: boolean;
}

/** How `sh`/`bash`/`zsh`… was invoked: options first, then -c's script or a script file. */
export function shellInvocation(words: ShellWord[]): ShellInvocation {
  let command = false;
  let stdin = false;
  let noexec = false;
  let aliases = basename(words[0]!.value) !== "bash";
  let i = 1;
  for (; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === "--" || v === "-") {
      i++;
      break;
    }
    if (v === "--rcfile" || v === "--init-file") i++;
    else if (v === "--posix") aliases = true;
    else if (v.startsWith("--")) continue;
    else if ((v[0] === "-" || v[0] === "+") && v.length > 1) {
      const on = v[0] === "-";
      if (v.includes("c")) command = true;
      if (v.includes("s")) stdin = true;
      if (v.includes("n") && on) noexec = true;
      if (v.includes("i") && on) aliases = true;
      if (v.includes("o") || v.includes("O")) {
        const opt = words[++i]?.value;
        if (on && opt === "noexec") noexec = true;
        if (on && (opt === "expand_aliases" || opt === "posix")) aliases = true;
      }
    } else break;
  }
  if (command) {
    const script = words[i];
    return { ...(script ? { script: scriptText(script.value) } : {}), readsStdin: false, noexec, aliases };
  }
  const file = stdin ? undefined : words[i];
  return { ...(file ? { file } : {}), readsStdin: stdin || i >= words.length, noexec, aliases };
}

/** Here-document bodies and here-strings: what the command reads on stdin. */
export function stdinTexts(cmd: ShellCommand): string[] {
  const out: string[] = [];
  for (const r of cmd.redirects) {
    if (r.op === "<<" || r.op === "<<-") out.push(r.body ?? "");
    else if (r.op === "<<<") out.push(scriptText(r.target.value));
  }
  return out;
}

/** What the previous pipeline stage may print: its arguments and here-documents, one command a line. */
export function upstreamText(cmd: ShellCommand): string {
  if (!cmd.upstream) return "";
  return cmd.upstream
    .map((c) =>
      [
        c.words
          .slice(1)
          .map((w) => scriptText(w.value))
          .join(" "),
        ...stdinTexts(c),
      ].join("\n"),
    )
    .join("\n");
}

export interface InterpreterInvocation {
  /** `SCRIPT args` when the program comes from a file (node x.mjs, python y.py). */
  script?: ShellWord[];
  codeFromStdin: boolean;
}

const INLINE_CODE = new Set(["-e", "-E", "-c", "-p", "-r", "--eval", "--print"]);

/** `node [options] SCRIPT args`, `python -c CODE`, `perl -e CODE`, `python3 - <<EOF`… */
export function interpreterInvocation(ws: ShellWord[]): InterpreterInvocation {
  const o = scanOptions(ws, 1, { arg: "rCm", long: ["--require", "--import", "--loader", "--experimental-loader", "--conditions"] });
  if (o.seen.some(([n]) => INLINE_CODE.has(n))) return { codeFromStdin: false };
  const rest = ws.slice(o.at);
  if (rest.length === 0 || rest[0]!.value === "-") return { codeFromStdin: true };
  return { script: rest, codeFromStdin: false };
}
