// The git part of the guard: find the subcommand after git's global options, resolve aliases
// defined on the same command line, and look inside the git subcommands that run shell code
// (rebase --exec, submodule foreach, bisect run, an alias definition starting with "!").
import { DYN, type ShellCommand, type ShellWord } from "../shell/parse.ts";
import { basename, scanOptions, scriptText } from "./programs.ts";

export type GuardRule = "git" | "deny-pattern" | "rails" | "unparsable";

export interface Deny {
  rule: GuardRule;
  blocked: string;
  note?: string;
  pattern?: string;
}

/** The rest of the guard, which git hands nested commands and scripts back to. */
export interface Checker {
  script(text: string, depth: number, strict: boolean): Deny | undefined;
  words(ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[]): Deny | undefined;
  code(text: string, prog: string, where: string): Deny | undefined;
  blockedSub(sub: string): boolean;
}

/** Options after which git runs nothing but prints (help, version, paths). */
const GIT_NO_RUN = new Set(["-h", "--help", "-v", "--version", "--html-path", "--man-path", "--info-path", "--exec-path"]);
const GIT_ARG_OPTS = new Set([
  "-C",
  "-c",
  "--git-dir",
  "--work-tree",
  "--namespace",
  "--super-prefix",
  "--config-env",
  "--attr-source",
  "--list-cmds",
]);

export function checkGit(c: Checker, ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[]): Deny | undefined {
  const name = basename(ws[0]!.value);
  if (!ws[0]!.dynamic && name.startsWith("git-")) {
    const sub = name.slice(4);
    return c.blockedSub(sub) ? { rule: "git", blocked: `git ${sub}`, note: `run as ${name}` } : undefined;
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
      if (val?.split)
        return { rule: "git", blocked: `git ${v} ${val.raw}`, note: "an unquoted expansion before the subcommand may hide it; quote it" };
      if (val && v === "-c") {
        // core.pager, core.editor, core.sshCommand… run commands: look at what they run.
        const hidden = c.code(val.value.slice(val.value.indexOf("=") + 1), "git", `git -c ${val.value.split("=")[0]}`);
        if (hidden) return hidden;
        unknownConfig = gitConfigArg(val.value, aliases) || unknownConfig;
      }
      if (val && v === "--config-env") unknownConfig = gitConfigArg(fromEnv(val.value), aliases) || unknownConfig;
    } else if (v.startsWith("--config-env=")) unknownConfig = gitConfigArg(fromEnv(v.slice(13)), aliases) || unknownConfig;
  }
  if (!sub) return undefined;
  if (sub.dynamic) return { rule: "git", blocked: `git ${sub.raw}`, note: "the subcommand is only known at run time" };
  let subName = sub.value;
  for (let hop = 0; aliases.has(subName.toLowerCase()) && hop < 8; hop++) {
    const body = aliases.get(subName.toLowerCase());
    if (body === null || body === undefined)
      return { rule: "git", blocked: `git ${subName}`, note: "an alias whose value is only known at run time" };
    if (body.startsWith("!")) return c.script(scriptText(body.slice(1)), depth + 1, true);
    subName = body.trim().split(/\s+/)[0] ?? "";
  }
  if (c.blockedSub(subName))
    return { rule: "git", blocked: `git ${subName}`, ...(subName !== sub.value ? { note: `alias ${sub.value}` } : {}) };
  if (unknownConfig)
    return { rule: "git", blocked: `git ${subName}`, note: "git config given with the command may turn it into another command" };
  const args = ws.slice(i + 1);
  switch (subName) {
    case "config":
      return aliasDefinition(c, args, depth);
    case "submodule": {
      const at = args.findIndex((a) => a.value === "foreach");
      const rest = at < 0 ? [] : args.slice(at + 1).filter((a) => !a.value.startsWith("--"));
      return rest.length ? c.script(scriptText(rest.map((a) => a.value).join(" ")), depth + 1, true) : undefined;
    }
    case "rebase":
      for (let k = 0; k < args.length; k++) {
        const v = args[k]!.value;
        const exec = v === "-x" || v === "--exec" ? args[++k]?.value : v.startsWith("--exec=") ? v.slice(7) : undefined;
        const d = exec === undefined ? undefined : c.script(scriptText(exec), depth + 1, true);
        if (d) return d;
      }
      return undefined;
    case "bisect":
      return args[0]?.value === "run" ? c.words(args.slice(1), cmd, depth, []) : undefined;
    default:
      return undefined;
  }
}

/** `git config [--global] alias.x VALUE` (or `git config set …`): the alias must not run a blocked subcommand. */
function aliasDefinition(c: Checker, args: ShellWord[], depth: number): Deny | undefined {
  const o = scanOptions(args, 0, { arg: "f", long: ["--file", "--blob", "--type", "--default", "--comment", "--value"] });
  const operands = args.slice(o.at).filter((a) => !a.value.startsWith("-"));
  if (operands[0]?.value === "set") operands.shift();
  const [key, val] = operands;
  if (!key || !val || !/^alias\./i.test(key.value)) return undefined;
  const alias = key.value.slice(6);
  if (val.dynamic)
    return { rule: "git", blocked: `git config ${key.raw} ${val.raw}`, note: "defines an alias whose value is only known at run time" };
  const body = val.value.trim();
  if (body.startsWith("!")) {
    const d = c.script(scriptText(body.slice(1)), depth + 1, false) ?? c.code(body.slice(1), "git", `alias ${alias}`);
    return d ? { ...d, note: `defines alias ${alias}` } : undefined;
  }
  const first = body.split(/\s+/)[0] ?? "";
  return c.blockedSub(first) ? { rule: "git", blocked: `git ${first}`, note: `defines alias ${alias}` } : undefined;
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

/** `--config-env=key=ENVVAR`: the value comes from the environment, so it is unknown. */
function fromEnv(setting: string): string {
  const eq = setting.indexOf("=");
  return (eq < 0 ? setting : setting.slice(0, eq)) + "=" + DYN;
}
