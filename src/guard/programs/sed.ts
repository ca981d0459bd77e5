// GNU sed runs shell commands: `e CMD`, a bare `e` (the pattern space), and `s/re/repl/e` (the
// pattern space after the substitution). This reads the sed script (from -e, --expression, the
// first operand, or -f with text visible in the command) far enough to find those, and says
// which texts would run: the input is simulated for a substitution whose regex JavaScript can
// run; otherwise the replacement and every input line count as commands (conservative).
import { DYN, type ShellWord } from "../../shell/parse.ts";
import { feedOfWord, feedScript, type Feed } from "../feeds.ts";
import type { ShellState } from "../state.ts";

export interface SedProgram {
  /** `e CMD` arguments. */
  execs: string[];
  /** A bare `e`: each input line runs. */
  patternExec: boolean;
  /** `s///e` commands. */
  substs: { re: string; repl: string; flags: string }[];
  /** Files written by `w FILE` and `s///w FILE`. */
  writes: string[];
  ere: boolean;
}

/** The sed program of a command line, or undefined when it cannot run commands (--sandbox) or is not visible (-f FILE). */
export function sedProgram(ws: ShellWord[], fds: Map<number, Feed>, st: ShellState): SedProgram | undefined {
  const scripts: string[] = [];
  let fromOption = false;
  let ere = false;
  for (let i = 1; i < ws.length; i++) {
    const v = ws[i]!.value;
    if (v === "--sandbox") return undefined;
    if (v === "-e" || v === "--expression") scripts.push(ws[++i]?.value ?? "");
    else if (v.startsWith("--expression=")) scripts.push(v.slice(13));
    else if (v === "-f" || v === "--file" || v.startsWith("--file=")) {
      const f = v.startsWith("--file=") ? { ...ws[i]!, value: v.slice(7) } : ws[++i];
      const feed = f && (f.value === "-" ? fds.get(0) : feedOfWord(f, fds, st));
      if (!feed) return undefined; // a script file the guard does not read
      scripts.push(feedScript(feed).text);
    } else if (v === "-E" || v === "-r" || v === "--regexp-extended") ere = true;
    else if (/^-[a-zA-Z]+$/.test(v)) {
      if (/[Er]/.test(v)) ere = true;
      const e = v.search(/[ef]/);
      if (e > 0 && v[e] === "f") return undefined;
      if (e > 0) scripts.push(e + 1 < v.length ? v.slice(e + 1) : (ws[++i]?.value ?? ""));
      else if (v.endsWith("l")) i++;
    } else if (v === "--" || !v.startsWith("-")) {
      if (scripts.length === 0 && !fromOption) scripts.push(ws[v === "--" ? ++i : i]?.value ?? "");
      fromOption = true;
      continue;
    }
    if (v.startsWith("-")) fromOption ||= scripts.length > 0;
  }
  return parse(scripts.join("\n"), ere);
}

function parse(script: string, ere: boolean): SedProgram {
  const p: SedProgram = { execs: [], patternExec: false, substs: [], writes: [], ere };
  const s = script;
  let i = 0;
  const toEol = () => {
    const nl = s.indexOf("\n", i);
    const text = s.slice(i, nl < 0 ? s.length : nl);
    i = nl < 0 ? s.length : nl;
    return text;
  };
  const delimited = (d: string) => {
    let out = "";
    while (i < s.length && s[i] !== d) {
      if (s[i] === "\\" && i + 1 < s.length) {
        out += s[i + 1] === d ? d : s.slice(i, i + 2);
        i += 2;
      } else out += s[i++];
    }
    i++;
    return out;
  };
  while (i < s.length) {
    const c = s[i]!;
    if (" \t\n;{}!".includes(c)) {
      i++;
      continue;
    }
    if (c === "#") {
      toEol();
      continue;
    }
    // An address: /re/, \cREc, a number, $, first~step, and a second one after a comma.
    if (c === "/" || c === "\\") {
      i += c === "\\" ? 2 : 1;
      delimited(c === "\\" ? s[i - 1]! : "/");
      continue;
    }
    if (/[0-9$,~+]/.test(c)) {
      i++;
      continue;
    }
    i++;
    if ("aic".includes(c)) toEol();
    else if (c === "e") {
      const arg = toEol().trim();
      if (arg) p.execs.push(arg);
      else p.patternExec = true;
    } else if ("rRwW".includes(c)) {
      const f = toEol().trim();
      if (c === "w" || c === "W") p.writes.push(f);
    } else if (":btT".includes(c)) {
      while (i < s.length && !";\n".includes(s[i]!)) i++;
    } else if (c === "s" || c === "y") {
      const d = s[i++] ?? "/";
      const re = delimited(d);
      const repl = delimited(d);
      if (c === "y") continue;
      let flags = "";
      while (i < s.length && /[gpiImMe0-9w]/.test(s[i]!)) {
        if (s[i] === "w") {
          i++;
          p.writes.push(toEol().trim());
          break;
        }
        flags += s[i++];
      }
      if (flags.includes("e")) p.substs.push({ re, repl, flags });
    }
  }
  return p;
}

/** The command lines the program would run, for this input. */
export function sedRun(p: SedProgram, input: () => string): string[] {
  const out = [...p.execs];
  if (!p.patternExec && p.substs.length === 0) return out;
  const lines = input()
    .split("\n")
    .filter((l) => l !== "");
  if (p.patternExec) out.push(...lines);
  for (const sub of p.substs) {
    const re = toRegExp(sub.re, p.ere, sub.flags);
    if (!re || lines.length === 0 || lines.some((l) => l.includes(DYN))) {
      out.push(sub.repl.replace(/\\([0-9])|&/g, "$UNKNOWN_VALUE"), ...lines);
      continue;
    }
    for (const line of lines) {
      if (!re.test(line)) continue;
      re.lastIndex = 0;
      out.push(
        line.replace(re, (...m: string[]) =>
          sub.repl.replace(/\\([0-9n&\\])|&/g, (_x, d: string | undefined) =>
            d === undefined ? m[0]! : d === "n" ? "\n" : /[0-9]/.test(d) ? (m[Number(d)] ?? "") : d,
          ),
        ),
      );
    }
  }
  return out;
}

/** A sed regex (BRE, or ERE with -E) as a JavaScript one; null when it uses what this does not translate. */
function toRegExp(re: string, ere: boolean, flags: string): RegExp | null {
  let out = "";
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === "\\") {
      const n = re[++i] ?? "";
      if (!ere && "(){}+?|".includes(n)) out += n;
      else if (/[0-9]/.test(n)) out += "\\" + n;
      else if (n === "n" || n === "t") out += "\\" + n;
      else if (/[A-Za-z]/.test(n))
        return null; // \w \s \b \< \`: GNU classes, left to the conservative path
      else out += "\\" + n;
    } else if (!ere && "(){}+?|".includes(c)) out += "\\" + c;
    else if (c === "[") {
      const end = re.indexOf("]", i + (re[i + 1] === "^" ? 3 : 2));
      if (end < 0 || re.slice(i, end).includes("[:")) return null;
      out += re.slice(i, end + 1);
      i = end;
    } else out += c;
  }
  try {
    return new RegExp(out, (flags.includes("g") ? "g" : "") + (/[iI]/.test(flags) ? "i" : ""));
  } catch {
    return null;
  }
}
