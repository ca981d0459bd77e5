// The program a command runs, judged (inspector.ts got it through aliases, functions and
// wrappers): shells and what they read (a -c string, stdin, a file descriptor, a process
// substitution), eval, source, trap, interpreters, find -exec, tmux, git, and any other program
// given `git …` as arguments; then writes to the automation settings.
import type { ShellCommand, ShellWord } from "../shell/parse.ts";
import { checkCode, langOf, mayRun } from "./programs/code.ts";
import { feedOfWord, feedScript, inputs, type Feed } from "./feeds.ts";
import { checkGit, isHelp, type Checker, type Deny } from "./git.ts";
import { INTERPRETER, interpreterInvocation, shellInvocation, SHELLS } from "./programs/invocations.ts";
import { basename, dynamicWord, scriptText } from "./programs.ts";
import {
  bridgeSettingsChange,
  claudeUnwiring,
  settingsFileWrite,
  isBridgeProgram,
  isDataProgram,
  settingsDeny,
} from "./settings-writes.ts";
import type { ShellState } from "./state.ts";
import { toolFor } from "./programs/tools.ts";

const EXEC_ACTIONS = new Set(["-exec", "-execdir", "-ok", "-okdir"]);
/** Programs that start a shell reading stdin when given no command: `echo cmd | script -q /dev/null`. */
const STDIN_SHELLS = new Set(["script", "newgrp", "sg", "su", "runuser"]);

export function program(
  c: Checker,
  name: string,
  ws: ShellWord[],
  cmd: ShellCommand,
  depth: number,
  assigns: ShellWord[],
  st: ShellState,
): Deny | undefined {
  let d: Deny | undefined;
  if (SHELLS.has(name)) return shell(c, ws, cmd, depth, st);
  if (name === "eval")
    return c.script(
      scriptText(
        ws
          .slice(1)
          .map((w) => w.value)
          .join(" "),
      ),
      depth + 1,
      true,
      st.sameShell(),
    );
  if (name === "source" || name === ".") d = sourced(c, ws, cmd, depth, st);
  else if (name === "git" || name.startsWith("git-")) d = checkGit(c, ws, cmd, depth, assigns, st);
  else if (name === "find") d = findExec(c, ws, cmd, depth, st);
  else if (name === "trap") d = trapAction(ws, st);
  else if (name === "tmux" || name === "screen") d = c.code(ws.map((w) => w.value).join(" "), name, `a command given to ${name}`);
  else if (INTERPRETER.test(name)) d = interpreter(c, name, ws, cmd, depth, assigns, st);
  // Programs tools.ts judged by what they run (a tar member or a make target named git is not run).
  else if (!isDataProgram(name) && !isBridgeProgram(name) && name !== "[[" && !toolFor(name)) d = embedded(c, name, ws, cmd, depth, st);
  if (d || !c.protectSettings) return d;
  // Inline code was judged with its arguments (checkCode): it reads or writes the files it names, as its code says.
  if (INTERPRETER.test(name) && !interpreterInvocation(ws).script) return undefined;
  // session-bridge's own arguments (a message body) may name the config file: only its subcommand matters.
  const hit = isBridgeProgram(name)
    ? isHelp(ws.slice(1))
      ? undefined
      : bridgeSettingsChange(ws, true)
    : (settingsFileWrite(name, ws) ?? claudeUnwiring(name, ws));
  return hit ? settingsDeny(hit) : undefined;
}

/** script, sg, su, newgrp without a command start a shell (interactive: aliases on), which reads the command's stdin. */
export function stdinShell(c: Checker, name: string, ws: ShellWord[], cmd: ShellCommand, depth: number, st: ShellState): Deny | undefined {
  if (!STDIN_SHELLS.has(name)) return undefined;
  const operands = ws.slice(1).filter((w) => !w.value.startsWith("-"));
  const command = ws.some(
    (w) => /^-[a-zA-Z]*c/.test(w.value) || w.value.startsWith("--command") || w.value.startsWith("--session-command"),
  );
  // One operand at most: script's log file, su's user, sg's or newgrp's group; a second is sg's command.
  if (command || operands.length > 1) return undefined;
  return feedToShell(c, inputs(cmd, st).get(0), name, depth, st.newProcess(true));
}

function shell(c: Checker, ws: ShellWord[], cmd: ShellCommand, depth: number, st: ShellState): Deny | undefined {
  const inv = shellInvocation(ws);
  if (inv.noexec) return undefined;
  const fds = inputs(cmd, st);
  const child = st.newProcess(inv.aliases, fds);
  if (inv.script !== undefined) return c.script(inv.script, depth + 1, true, child);
  if (cmd.coproc && !inv.file)
    return {
      rule: "git",
      blocked: ws[0]!.raw,
      note: "a shell started by coproc or in >(…) runs whatever the command writes to it; write those commands literally",
    };
  if (inv.file) {
    const feed = feedOfWord(inv.file, fds, st);
    // A script file is not read (a documented limit), except one named like git, taken for git (`bash ./git push`);
    // a process substitution or a descriptor is text in the command.
    const at = ws.indexOf(inv.file);
    if (!feed && /^git(?:-|$)/.test(basename(inv.file.value))) return checkGit(c, ws.slice(at), cmd, depth, [], child);
    return feed ? feedToShell(c, feed, ws[0]!.value, depth, child) : undefined;
  }
  return inv.readsStdin ? feedToShell(c, fds.get(0), ws[0]!.value, depth, child) : undefined;
}

/** Input a shell runs as its script: the known text exactly; what a program prints, by its arguments' words. */
function feedToShell(c: Checker, feed: Feed | undefined, prog: string, depth: number, st: ShellState): Deny | undefined {
  if (!feed) return undefined;
  const { text, programs, files } = feedScript(feed);
  const d = c.script(scriptText(text), depth + 1, programs.length === 0 && files === 0, st);
  if (d) return d;
  for (const p of programs) {
    const e = c.script(scriptText(p), depth + 1, false, st) ?? c.code(p, prog, "input piped into a shell");
    if (e) return e;
  }
  return undefined;
}

function sourced(c: Checker, ws: ShellWord[], cmd: ShellCommand, depth: number, st: ShellState): Deny | undefined {
  const file = ws[1];
  if (!file) return undefined;
  const fds = inputs(cmd, st);
  const feed = file.value === "-" ? fds.get(0) : feedOfWord(file, fds, st);
  return feed ? feedToShell(c, feed, ws[0]!.value, depth, st.sameShell()) : undefined;
}

/** `trap 'cmd' EXIT`: the action runs later in the same shell, checked at the end of it (inspector.ts). */
function trapAction(ws: ShellWord[], st: ShellState): Deny | undefined {
  const args = ws[1]?.value === "--" ? ws.slice(2) : ws.slice(1);
  const action = args[0];
  if (action && !action.value.startsWith("-")) st.traps.push(scriptText(action.value));
  return undefined;
}

function findExec(c: Checker, ws: ShellWord[], cmd: ShellCommand, depth: number, st: ShellState): Deny | undefined {
  for (let i = 1; i < ws.length; i++) {
    if (!EXEC_ACTIONS.has(ws[i]!.value)) continue;
    let j = i + 1;
    while (j < ws.length && ws[j]!.value !== ";" && ws[j]!.value !== "+") j++;
    const inner = ws.slice(i + 1, j).map((w) => (w.value.includes("{}") ? dynamicWord(w.raw, false) : w));
    const d = c.words(inner, cmd, depth, [], st.newProcess(false));
    if (d) return d;
    i = j;
  }
  return undefined;
}

/** python -c, node -e, perl/ruby/awk…: code (inline, from stdin, or from a descriptor) the guard judges by what it can run. */
function interpreter(
  c: Checker,
  name: string,
  ws: ShellWord[],
  cmd: ShellCommand,
  depth: number,
  assigns: ShellWord[],
  st: ShellState,
): Deny | undefined {
  const lang = langOf(name);
  const inv = interpreterInvocation(ws);
  const fds = inputs(cmd, st);
  let code = ws
    .slice(1)
    .map((w) => w.value)
    .join(" ");
  let data = "";
  const stdin = fds.get(0) ? feedScript(fds.get(0)!) : undefined;
  // stdin is the program only without inline code and a script file; otherwise it is data
  if (inv.codeFromStdin && stdin) code += "\n" + [stdin.text, ...stdin.programs].join("\n");
  else if (stdin) data = [stdin.text, ...stdin.programs].join("\n");
  const script = inv.script && feedOfWord(inv.script[0]!, fds, st);
  if (script) code += "\n" + feedScript(script).text;
  const inPlace = ws.some((w) => /^-[a-zA-Z]*i/.test(w.value) || w.value === "inplace");
  let d = checkCode(c, lang, code, name, `${name} code`, depth, st, inPlace);
  // Input turned into commands (`awk '{ system($0) }'`): as a script, and with the code's words when the code builds commands from it.
  if (!d && data && mayRun(lang, code))
    d =
      c.script(scriptText(data), depth + 1, false, st.newProcess(false)) ??
      (c.code(code, name, name) || /\bgit\b/.test(code) ? c.code(`${code}\n${data}`, name, `${name} code and its input`) : undefined);
  if (!d && inv.script && isBridgeProgram(basename(inv.script[0]!.value))) d = c.words(inv.script, cmd, depth, assigns, st);
  return d;
}

/**
 * A program the guard does not know that is given `git …` (or a guard.deny command, or
 * session-bridge) as arguments may run it: `strace -f git push`, `docker run img git push`.
 */
function embedded(c: Checker, name: string, ws: ShellWord[], cmd: ShellCommand, depth: number, st: ShellState): Deny | undefined {
  for (let i = 1; i < ws.length; i++) {
    const w = ws[i]!;
    if (w.dynamic) continue;
    const b = basename(w.value);
    const rest = ws.slice(i);
    let d: Deny | undefined;
    if (b === "git") d = checkGit(c, rest, cmd, depth, [], st.newProcess(false));
    else if (c.protectSettings && isBridgeProgram(b)) {
      const hit = isHelp(rest.slice(1)) ? undefined : bridgeSettingsChange(rest, true);
      d = hit ? settingsDeny(hit) : undefined;
    } else if (c.patterns.some((p) => basename(p[0]!) === b)) d = c.denyPattern(rest);
    if (d) return { ...d, note: d.note ?? `${name} may run it` };
  }
  return undefined;
}
