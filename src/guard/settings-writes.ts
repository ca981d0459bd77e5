// Settings protection for the guard: a non-admin bridged session may not change the bridge's own
// automation config, neither through `session-bridge spawner on|off|set|config`,
// `dashboard --admin`, `install`/`uninstall` (or Claude Code's `plugin disable|uninstall`,
// `mcp remove` of ours), nor by writing, moving, copying over or deleting a
// file named bridge-settings.json (or spawner.config.json, its name before 0.2). Reading it stays allowed. Pure.
import type { ShellRedirect, ShellWord } from "../shell/parse.ts";
import { basename, couldBe } from "./programs.ts";
import type { Deny } from "./git.ts";

/** The settings file's names: bridge-settings.json, and spawner.config.json before 0.2 (still read). */
export const SETTINGS_NAMES = ["bridge-settings.json", "spawner.config.json"] as const;

/** The settings file name that `text` mentions, if any. */
export function settingsNameIn(text: string): string | undefined {
  return SETTINGS_NAMES.find((name) => text.includes(name));
}

export interface SettingsChange {
  blocked: string;
  /** What it would change, for the reason text. */
  what: string;
}

const BRIDGE_NAME = /^session-bridge(?:\.(?:mjs|cjs|js|exe))?$/;
export const BRIDGE_NAMES = ["session-bridge", "session-bridge.mjs", "session-bridge.cjs", "session-bridge.js"];

export function isBridgeProgram(name: string): boolean {
  return BRIDGE_NAME.test(name);
}

const SPAWNER_CHANGES = new Set(["on", "off", "set", "config"]);
const SPAWNER_WHAT = "turns automatic waking on or off, or changes its settings";

/**
 * `session-bridge …` words (program first). `exact` is false when the program is only possibly
 * session-bridge (a variable): then install/uninstall, common verbs of other tools, are let through.
 */
export function bridgeSettingsChange(words: ShellWord[], exact: boolean): SettingsChange | undefined {
  const command = bridgeCommand(words);
  if (!command) return undefined;
  const [cmd, at] = command;
  const prog = exact ? "session-bridge" : words[0]!.raw;
  if (cmd.dynamic && exact) return { blocked: `${prog} ${cmd.raw}`, what: "its subcommand is only known at run time" };
  const later = words.slice(at + 1);
  switch (cmd.value) {
    case "spawner": {
      // Any later word, not just the next: flags such as `--project shop` may sit in between.
      const action = later.find((w) => w.dynamic || SPAWNER_CHANGES.has(w.value));
      // `spawner config` alone lists the settings; with KEY=VALUE it changes them.
      if (action?.value === "config" && !later.some((w) => w.dynamic || w.value.includes("="))) return undefined;
      return action ? { blocked: `${prog} spawner ${action.raw}`, what: SPAWNER_WHAT } : undefined;
    }
    case "dashboard":
      return later.some((w) => w.value === "--admin" || w.value.startsWith("--admin="))
        ? { blocked: `${prog} dashboard --admin`, what: "opens the dashboard with the power to change the automation settings" }
        : undefined;
    case "install":
    case "uninstall":
      return exact
        ? { blocked: `${prog} ${cmd.value}`, what: "rewrites the hooks that enforce the rails, the guard among them" }
        : undefined;
    default:
      return undefined;
  }
}

const CLAUDE_NAME = /^claude(?:\.(?:exe|cmd))?$/;

/**
 * `claude plugin disable|uninstall session-bridge…` and `claude mcp remove session-bridge` take our
 * hooks (the guard among them) or our server out of every session of that config, as `uninstall`
 * does; `claude plugin enable`, `list` and the rest are let through.
 */
export function claudeUnwiring(name: string, words: ShellWord[]): SettingsChange | undefined {
  if (!CLAUDE_NAME.test(name)) return undefined;
  const operands = words.slice(1).filter((w) => !w.value.startsWith("-"));
  const [group, verb, ...rest] = operands.map((w) => w.value);
  const ours = rest.some((v) => v.startsWith("session-bridge")) || operands.slice(2).some((w) => w.dynamic);
  if (!ours) return undefined;
  if (group === "plugin" && (verb === "disable" || verb === "uninstall" || verb === "remove"))
    return { blocked: `claude plugin ${verb} session-bridge`, what: "takes out the plugin's hooks, the guard among them" };
  if (group === "mcp" && (verb === "remove" || verb === "rm"))
    return { blocked: `claude mcp ${verb} session-bridge`, what: "takes the bridge's MCP server out of every session" };
  return undefined;
}

/** The subcommand word: the first operand, unless it may be the value of a preceding `--flag`. */
function bridgeCommand(words: ShellWord[]): [ShellWord, number] | undefined {
  let afterFlag = false;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (w.value.startsWith("-")) {
      afterFlag = w.value.startsWith("--") && !w.value.includes("=");
      continue;
    }
    if (!afterFlag || isSettingsVerb(w.value)) return [w, i];
    afterFlag = false;
  }
  return undefined;
}

function isSettingsVerb(v: string): boolean {
  return v === "spawner" || v === "dashboard" || v === "install" || v === "uninstall";
}

/** Does this word name the config file, or may it expand to it (a glob or variable in the bridge folder)? */
export function mentionsConfig(w: ShellWord): boolean {
  if (settingsNameIn(w.value) !== undefined) return true;
  if (!w.dynamic || !/spawner|bridge/i.test(w.raw)) return false;
  const dir = w.value.slice(0, w.value.lastIndexOf("/") + 1);
  return SETTINGS_NAMES.some((name) => couldBe(w, dir + name) || couldBe(w, name));
}

const WRITE_OPS = new Set([">", ">>", ">|", "&>", "&>>", "<>", ">&"]);

export function settingsRedirect(r: ShellRedirect): SettingsChange | undefined {
  if (!WRITE_OPS.has(r.op) || !mentionsConfig(r.target)) return undefined;
  return { blocked: `${r.op} ${r.target.raw}`, what: "writes the automation config" };
}

/** Programs that only read the files they are given (unless a write flag is present, below). */
const READERS = new Set(
  (
    "cat tac less more head tail grep egrep fgrep rg ag ack wc stat ls file diff cmp comm jq gron bat batcat od xxd " +
    "hexdump strings sha1sum sha224sum sha256sum sha384sum sha512sum md5sum md5 shasum cksum b2sum sum readlink " +
    "realpath basename dirname test [ echo printf column nl cut uniq du cd pushd type which fold fmt sed awk gawk " +
    "mawk nawk sort find yq [["
  ).split(" "),
);

const DOCS = new Set(["man", "info", "help", "tldr", "whatis", "apropos", "whereis"]);

/** Programs whose arguments are data, never a command they run (readers, echo, man…). */
export function isDataProgram(name: string): boolean {
  return READERS.has(name) || DOCS.has(name);
}

/** A reader that writes after all: sed -i, sort -o, find -delete, gawk -i inplace, yq -i. */
function readerWrites(name: string, args: ShellWord[]): boolean {
  const vals = args.map((w) => w.value);
  switch (name) {
    case "sed":
      return vals.some((v) => /^-[^-]*i/.test(v) || v.startsWith("--in-place"));
    case "awk":
    case "gawk":
      return vals.some((v) => v === "inplace" || v.startsWith("--include=inplace") || v.startsWith("-iinplace"));
    case "sort":
      return vals.some((v) => /^-[^-]*o/.test(v) || v.startsWith("--output"));
    case "find":
      return vals.some((v) => v === "-delete" || v.startsWith("-fprint") || v === "-fls");
    case "yq":
      return vals.some((v) => /^-[^-]*i/.test(v) || v.startsWith("--inplace"));
    default:
      return false;
  }
}

/** tar writes its archive (-f) when it creates one, and the members it extracts. */
function tarSettingsWrite(args: ShellWord[]): SettingsChange | undefined {
  let archive: ShellWord | undefined;
  let extract = false;
  const members: ShellWord[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    const v = w.value;
    if (v === "-f" || v === "--file") archive = args[++i];
    else if (v.startsWith("--file=")) archive = { ...w, value: v.slice(7) };
    else if (v === "-x" || v === "--extract" || v === "--get") extract = true;
    else if (/^-?[A-Za-z]+$/.test(v) && (i === 0 || v.startsWith("-"))) {
      if (v.includes("x")) extract = true;
      const f = v.indexOf("f");
      if (f >= 0) archive = f + 1 < v.length ? { ...w, value: v.slice(f + 1) } : args[++i];
    } else if (!v.startsWith("-")) members.push(w);
  }
  const hit = (w: ShellWord) => ({ blocked: `tar … ${w.raw}`, what: "writes the automation config" });
  if (!extract && archive && mentionsConfig(archive)) return hit(archive);
  const member = extract ? members.find(mentionsConfig) : undefined;
  return member ? hit(member) : undefined;
}

const COPIERS = new Set(["cp", "install", "ln", "rsync", "scp"]);
const COPIER_ARG_OPTS = new Set([
  "-t",
  "--target-directory",
  "-S",
  "--suffix",
  "-m",
  "--mode",
  "-o",
  "--owner",
  "-g",
  "--group",
  "-e",
  "--rsh",
]);

/** Words naming the config file, given to a program that may write, move or delete it. */
export function settingsFileWrite(name: string, words: ShellWord[]): SettingsChange | undefined {
  const args = words.slice(1);
  if (READERS.has(name) && !readerWrites(name, args)) return undefined;
  if (COPIERS.has(name)) return copySettingsWrite(name, args);
  if (name === "tar" || name === "gtar") return tarSettingsWrite(args);
  const hit = words.find(mentionsConfig);
  const prog = words[0]!.dynamic ? words[0]!.raw : basename(words[0]!.value);
  return hit ? { blocked: `${prog} ${hit.raw}`, what: "may write, move or delete the automation config" } : undefined;
}

/** cp/ln/install/rsync/scp write only their destination: copying the config elsewhere is reading it. */
function copySettingsWrite(name: string, args: ShellWord[]): SettingsChange | undefined {
  let target: ShellWord | undefined;
  const operands: ShellWord[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    const v = w.value;
    if (v.startsWith("--target-directory=")) target = { ...w, value: v.slice(19) };
    else if (COPIER_ARG_OPTS.has(v)) {
      if (v === "-t" || v === "--target-directory") target = args[i + 1];
      i++;
    } else if (!v.startsWith("-") || v === "-") operands.push(w);
  }
  const dest = target ?? operands.pop();
  if (!dest) return undefined;
  const hit = { blocked: `${name} … ${dest.raw}`, what: "writes the automation config" };
  if (mentionsConfig(dest)) return hit;
  return operands.some(mentionsConfig) && mayBeBridgeFolder(dest) ? hit : undefined;
}

/**
 * A destination that may be the bridge's folder, where a copied spawner.config.json keeps its name:
 * `.`, `..`, a path naming bridge or .claude, or one known only at run time (`$DIR`). A copy to
 * `/tmp/x` or `/tmp/copy-$$.json` is a copy elsewhere: reading the settings.
 */
function mayBeBridgeFolder(w: ShellWord): boolean {
  const path = w.value.replace(/\/+$/, "");
  const base = basename(path);
  if (w.dynamic) return !/\.[A-Za-z0-9]+$/.test(base);
  return path === "" || path === "~" || base === "." || base === ".." || /bridge|\.claude/i.test(path);
}

/** A settings write as the guard's deny. */
export function settingsDeny(hit: SettingsChange): Deny {
  return { rule: "settings", blocked: hit.blocked, note: hit.what };
}
