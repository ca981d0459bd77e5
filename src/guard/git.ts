// The git part of the guard: find the subcommand after git's global options, resolve what the
// configuration given in the command makes of it (git-config.ts), let help and usage requests
// through, and look inside the git subcommands that run shell code (rebase --exec, submodule
// foreach, bisect run, an alias definition starting with "!").
import type { ShellCommand, ShellWord } from "../shell/parse.ts";
import { basename, scanOptions, scriptText } from "./programs.ts";
import { gitConfig, resolve } from "./git-config.ts";
import type { ShellState } from "./state.ts";

export type GuardRule = "git" | "deny-pattern" | "settings" | "unparsable";

export interface Deny {
  rule: GuardRule;
  blocked: string;
  note?: string;
  pattern?: string;
}

/** The rest of the guard, which git (and the other program handlers) hand nested commands and scripts back to. */
export interface Checker {
  readonly protectSettings: boolean;
  /** guard.deny patterns as words. */
  readonly patterns: readonly string[][];
  denyPattern(ws: ShellWord[]): Deny | undefined;
  /** `strict`: a parse error denies; otherwise (text that only may be a script) it is ignored. */
  script(text: string, depth: number, strict: boolean, st: ShellState): Deny | undefined;
  words(ws: ShellWord[], cmd: ShellCommand, depth: number, assigns: ShellWord[], st: ShellState): Deny | undefined;
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
// Options of the default blocked subcommands that take no value: `-h`/`--help` right after one is
// an option too (usage), not the option's value. (An unknown option may take `--help` as its value.)
const FLAGS = new Set(
  (
    "--hard --soft --mixed --merge --keep -q --quiet -p --patch --no-refresh -N --intent-to-add --recurse-submodules " +
    "-a --all -v --verbose --amend --no-edit -n --no-verify -s --signoff --allow-empty --allow-empty-message -e --edit " +
    "-i --include -o --only --dry-run --short --porcelain --long -z --null --reset-author --no-post-rewrite " +
    "-f --force --tags --mirror -d --delete -u --set-upstream --progress --atomic --follow-tags --prune " +
    "--force-with-lease --thin --no-thin"
  ).split(" "),
);
const LITERALLY = "write the git subcommand literally";

export function checkGit(
  c: Checker,
  ws: ShellWord[],
  cmd: ShellCommand,
  depth: number,
  assigns: ShellWord[],
  st: ShellState,
): Deny | undefined {
  const name = basename(ws[0]!.value);
  if (!ws[0]!.dynamic && name.startsWith("git-")) {
    const sub = name.slice(4);
    return c.blockedSub(sub) && !isHelp(ws.slice(1)) ? { rule: "git", blocked: `git ${sub}`, note: `run as ${name}` } : undefined;
  }
  const settings: string[] = [];
  let i = 1;
  let sub: ShellWord | undefined;
  for (; i < ws.length; i++) {
    const w = ws[i]!;
    if (w.split)
      return {
        rule: "git",
        blocked: `git ${w.raw}`,
        note: `an unquoted expansion before the subcommand may hide it; quote it or ${LITERALLY}`,
      };
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
        const key = val.value.split("=")[0]!;
        // core.pager, core.editor, core.sshCommand… run commands: look at what they run. Aliases run only when called.
        const hidden = /^alias\./i.test(key) ? undefined : c.code(val.value.slice(val.value.indexOf("=") + 1), "git", `git -c ${key}`);
        if (hidden) return hidden;
        settings.push(val.value);
      }
      if (val && v === "--config-env") settings.push(fromEnv(val.value, [...st.env, ...assigns], st));
    } else if (v.startsWith("--config-env=")) settings.push(fromEnv(v.slice(13), [...st.env, ...assigns], st));
  }
  if (!sub) return undefined;
  if (sub.dynamic) return { rule: "git", blocked: `git ${sub.raw}`, note: `the subcommand is only known at run time; ${LITERALLY}` };
  const args = ws.slice(i + 1);
  // `git x --help` shows the help of x, or what alias x stands for: nothing runs.
  if (args[0]?.value === "--help") return undefined;
  const cfg = gitConfig(settings, [...st.env, ...assigns]);
  for (const s of cfg.others) {
    const d = c.code(s.slice(s.indexOf("=") + 1), "git", `git config ${s.split("=")[0]} from the environment`);
    if (d) return d;
  }
  for (const r of resolve(sub.value, args, cfg)) {
    let d: Deny | undefined;
    if ("unknown" in r)
      d = { rule: "git", blocked: `git ${r.sub}`, note: `${r.unknown}: it may turn ${r.sub} into another command; ${LITERALLY}` };
    else if ("shell" in r) {
      const script = [r.shell, ...r.args.map((a) => shellQuote(a.value))].join(" ");
      d = c.script(scriptText(script), depth + 1, true, st.newProcess(false));
      if (d) d = { ...d, note: d.note ?? `run by ${r.via}` };
    } else if (c.blockedSub(r.sub) && !isHelp(r.args)) {
      d = { rule: "git", blocked: `git ${r.sub}`, ...(r.via ? { note: r.via } : {}) };
    } else d = runsCode(c, r.sub, r.args, cmd, depth, st);
    if (d) return d;
  }
  return undefined;
}

/** `-h` or `--help` among the subcommand's options (before `--`, not an option's value): usage or help, nothing runs. */
export function isHelp(args: ShellWord[]): boolean {
  for (let k = 0; k < args.length; k++) {
    const v = args[k]!.value;
    if (v === "--") return false;
    if (args[k]!.split) return false;
    if (v !== "-h" && v !== "--help") continue;
    const prev = args[k - 1];
    if (!prev || (!prev.dynamic && (!prev.value.startsWith("-") || prev.value.includes("=") || FLAGS.has(prev.value)))) return true;
  }
  return false;
}

function shellQuote(v: string): string {
  return /^[\w./=:@%+-]+$/.test(v) ? v : `'${v.replaceAll("'", `'\\''`)}'`;
}

/** Subcommands that run shell code or define aliases: config, submodule foreach, rebase --exec, bisect run. */
function runsCode(c: Checker, sub: string, args: ShellWord[], cmd: ShellCommand, depth: number, st: ShellState): Deny | undefined {
  switch (sub) {
    case "config":
      return aliasDefinition(c, args, depth, st);
    case "submodule": {
      const at = args.findIndex((a) => a.value === "foreach");
      const rest = at < 0 ? [] : args.slice(at + 1).filter((a) => !a.value.startsWith("--"));
      return rest.length ? c.script(scriptText(rest.map((a) => a.value).join(" ")), depth + 1, true, st.newProcess(false)) : undefined;
    }
    case "rebase":
      for (let k = 0; k < args.length; k++) {
        const v = args[k]!.value;
        const exec = v === "-x" || v === "--exec" ? args[++k]?.value : v.startsWith("--exec=") ? v.slice(7) : undefined;
        const d = exec === undefined ? undefined : c.script(scriptText(exec), depth + 1, true, st.newProcess(false));
        if (d) return d;
      }
      return undefined;
    case "bisect":
      return args[0]?.value === "run" ? c.words(args.slice(1), cmd, depth, [], st.newProcess(false)) : undefined;
    default:
      return undefined;
  }
}

/** `git config [--global] alias.x VALUE` (or `git config set …`): the alias must not run a blocked subcommand. */
function aliasDefinition(c: Checker, args: ShellWord[], depth: number, st: ShellState): Deny | undefined {
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
    const d = c.script(scriptText(body.slice(1)), depth + 1, false, st.newProcess(false)) ?? c.code(body.slice(1), "git", `alias ${alias}`);
    return d ? { ...d, note: `defines alias ${alias}` } : undefined;
  }
  const first = body.split(/\s+/)[0] ?? "";
  return c.blockedSub(first) ? { rule: "git", blocked: `git ${first}`, note: `defines alias ${alias}` } : undefined;
}

/** `--config-env=key=ENVVAR`: the value of ENVVAR, when an assignment in the command gives it (else unknown). */
function fromEnv(setting: string, env: ShellWord[], st: ShellState): string {
  const eq = setting.indexOf("=");
  const key = eq < 0 ? setting : setting.slice(0, eq);
  const name = setting.slice(eq + 1);
  const given = env.filter((a) => a.value.startsWith(name + "=")).pop();
  const known = st.vars.get(name);
  const value = given
    ? given.value.slice(name.length + 1)
    : known && !known.unknown && known.values.length === 1
      ? known.values[0]!
      : "\u0000";
  return `${key}=${value}`;
}
