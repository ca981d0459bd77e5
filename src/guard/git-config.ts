// Git configuration given inside the command (`-c k=v`, `--config-env=k=VAR`, GIT_CONFIG_COUNT
// with GIT_CONFIG_KEY_n/GIT_CONFIG_VALUE_n, GIT_CONFIG_PARAMETERS), and what it makes of a
// subcommand: aliases (never over a git command: `git -c alias.status=push status` runs status),
// `!` aliases (shell code), help.autocorrect (a typo runs the closest command). As git 2.39 does
// it (git.c run_argv, help.c help_unknown_cmd, levenshtein.c).
import { DYN, type ShellWord } from "../shell/parse.ts";

// `git --list-cmds=builtins` and the scripts of `--list-cmds=main` (git 2.39.5): run before any alias.
const GIT_COMMANDS = new Set(
  (
    "add am annotate apply archive bisect--helper blame branch bugreport bundle cat-file check-attr check-ignore " +
    "check-mailmap check-ref-format checkout checkout--worker checkout-index cherry cherry-pick clean clone column " +
    "commit commit-graph commit-tree config count-objects credential credential-cache credential-cache--daemon " +
    "credential-store describe diagnose diff diff-files diff-index diff-tree difftool env--helper fast-export " +
    "fast-import fetch fetch-pack fmt-merge-msg for-each-ref for-each-repo format-patch fsck fsck-objects " +
    "fsmonitor--daemon gc get-tar-commit-id grep hash-object help hook index-pack init init-db interpret-trailers " +
    "log ls-files ls-remote ls-tree mailinfo mailsplit maintenance merge merge-base merge-file merge-index merge-ours " +
    "merge-recursive merge-recursive-ours merge-recursive-theirs merge-subtree merge-tree mktag mktree " +
    "multi-pack-index mv name-rev notes pack-objects pack-redundant pack-refs patch-id pickaxe prune prune-packed " +
    "pull push range-diff read-tree rebase receive-pack reflog remote remote-ext remote-fd repack replace rerere " +
    "reset restore rev-list rev-parse revert rm send-pack shortlog show show-branch show-index show-ref " +
    "sparse-checkout stage stash status stripspace submodule--helper switch symbolic-ref tag unpack-file " +
    "unpack-objects update-index update-ref update-server-info upload-archive upload-archive--writer upload-pack var " +
    "verify-commit verify-pack verify-tag version whatchanged worktree write-tree " +
    "add--interactive bisect daemon difftool--helper filter-branch http-backend http-fetch http-push imap-send " +
    "instaweb merge-octopus merge-one-file merge-resolve mergetool quiltimport remote-ftp remote-ftps remote-http " +
    "remote-https request-pull sh-i18n--envsubst shell submodule subtree web--browse"
  ).split(" "),
);
// `git help` (2.39): a prefix of one of these is never autocorrected.
const COMMON =
  "clone init add mv restore rm bisect diff grep log show status branch commit merge rebase reset switch tag fetch pull push".split(" ");

export function isGitCommand(sub: string): boolean {
  return GIT_COMMANDS.has(sub);
}

export interface GitConfig {
  /** alias name (lower case) → its possible values (null: only known at run time). */
  aliases: Map<string, (string | null)[]>;
  /** Why aliases may exist that cannot be known (a config file named in the command…). */
  unknown?: string;
  autocorrect: boolean;
  /** Other settings given in the environment, "key=value" (core.pager, core.editor… run commands). */
  others: string[];
}

const CONFIG_FILES = /^(GIT_CONFIG|GIT_CONFIG_GLOBAL|GIT_CONFIG_SYSTEM)=/;

/** The configuration given with one git call: `-c` settings (in order), the environment's assignments. */
export function gitConfig(settings: string[], env: ShellWord[]): GitConfig {
  const cfg: GitConfig = { aliases: new Map(), autocorrect: false, others: [] };
  const keys = new Map<string, (string | null)[]>();
  const values = new Map<string, (string | null)[]>();
  for (const a of env) {
    const v = a.value;
    const eq = v.indexOf("=");
    const name = v.slice(0, eq);
    const value = v.slice(eq + 1);
    if (CONFIG_FILES.test(v)) cfg.unknown ??= `${name} names a git config file the guard does not read`;
    let m: RegExpExecArray | null;
    if ((m = /^GIT_CONFIG_(KEY|VALUE)_([0-9]+)$/.exec(name))) {
      const table = m[1] === "KEY" ? keys : values;
      table.set(m[2]!, [...(table.get(m[2]!) ?? []), value.includes(DYN) ? null : value]);
    } else if (name === "GIT_CONFIG_PARAMETERS") {
      const entries = value.includes(DYN) ? null : configParameters(value);
      if (entries === null) cfg.unknown ??= "GIT_CONFIG_PARAMETERS is only known at run time";
      else for (const e of entries) setting(cfg, e);
    }
  }
  for (const [n, ks] of keys) {
    for (const k of ks) {
      if (k === null) cfg.unknown ??= `GIT_CONFIG_KEY_${n} is only known at run time`;
      else for (const val of values.get(n) ?? [""]) setting(cfg, val === null ? `${k}=${DYN}` : `${k}=${val}`);
    }
  }
  const fromEnv = cfg.others.length;
  for (const s of settings) setting(cfg, s);
  cfg.others.length = fromEnv; // -c settings were looked at where they were read
  return cfg;
}

function setting(cfg: GitConfig, s: string): void {
  const eq = s.indexOf("=");
  const key = (eq < 0 ? s : s.slice(0, eq)).toLowerCase();
  const value = eq < 0 ? "" : s.slice(eq + 1);
  if (key.includes(DYN)) cfg.unknown ??= "a git config key is only known at run time";
  else if (key.startsWith("alias.")) {
    const name = key.slice(6);
    cfg.aliases.set(name, [...(cfg.aliases.get(name) ?? []), value.includes(DYN) ? null : value]);
  } else if (key === "help.autocorrect") cfg.autocorrect = value.includes(DYN) || !/^(0|never|prompt|show|false|no|off)?$/i.test(value);
  else if (key === "include.path" || key.startsWith("includeif.")) cfg.unknown ??= "git config includes a file the guard does not read";
  else cfg.others.push(s);
}

/** GIT_CONFIG_PARAMETERS: `'key'='value'` or `'key=value'` entries, single-quoted, space-separated. */
function configParameters(text: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const quoted = (): string | null => {
    if (text[i] !== "'") return null;
    let v = "";
    for (i++; ; ) {
      const end = text.indexOf("'", i);
      if (end < 0) return null;
      v += text.slice(i, end);
      i = end + 1;
      if (text.startsWith("\\''", i)) {
        v += "'";
        i += 3;
      } else return v;
    }
  };
  while (i < text.length) {
    if (text[i] === " ") {
      i++;
      continue;
    }
    const key = quoted();
    if (key === null) return null;
    if (text[i] === "=") {
      i++;
      const val = quoted();
      if (val === null) return null;
      out.push(`${key}=${val}`);
    } else out.push(key);
  }
  return out;
}

export type Resolution =
  | { sub: string; args: ShellWord[]; via?: string }
  | { shell: string; args: ShellWord[]; via: string }
  | { unknown: string; sub: string };

const GLOBAL_WITH_VALUE = new Set(["-C", "-c", "--git-dir", "--work-tree", "--namespace", "--super-prefix", "--config-env"]);

/** What `git SUB ARGS` runs under this configuration: each possibility (an alias may have several values). */
export function resolve(sub: string, args: ShellWord[], cfg: GitConfig, hops = 0, via?: string): Resolution[] {
  if (isGitCommand(sub) || hops > 8) return [{ sub, args, ...(via ? { via } : {}) }];
  const values = cfg.aliases.get(sub.toLowerCase());
  if (!values) {
    if (cfg.unknown) return [{ unknown: cfg.unknown, sub }];
    if (!cfg.autocorrect) return [{ sub, args }];
    const guesses = autocorrect(sub, [...GIT_COMMANDS, ...cfg.aliases.keys()]);
    return guesses.flatMap((g) => resolve(g, args, cfg, hops + 1, via ?? `help.autocorrect takes ${sub} for ${g}`));
  }
  const how = via ?? `alias ${sub}`;
  return values.flatMap((v): Resolution[] => {
    if (v === null) return [{ unknown: "an alias whose value is only known at run time", sub }];
    const body = v.trim();
    if (body.startsWith("!")) return [{ shell: body.slice(1), args, via: how }];
    const words = splitCmdline(body);
    if (words === null) return [{ sub, args }]; // git refuses a badly quoted alias
    let k = 0;
    while (k < words.length && words[k]!.startsWith("-")) k += GLOBAL_WITH_VALUE.has(words[k]!) ? 2 : 1;
    const next = words[k];
    if (next === undefined) return [{ sub, args }];
    const extra = words.slice(k + 1).map((w) => ({ value: w, raw: w, dynamic: false, split: false, pattern: w }));
    return resolve(next, [...extra, ...args], cfg, hops + 1, how);
  });
}

/** git's split_cmdline: words, with '…' and "…" quoting and backslashes; null when a quote is open. */
function splitCmdline(s: string): string[] | null {
  const out: string[] = [];
  let cur: string | null = null;
  let quote = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = "";
      else if (c === "\\" && quote === '"' && i + 1 < s.length) cur += s[++i]!;
      else cur += c;
    } else if (/\s/.test(c)) {
      if (cur !== null) out.push(cur);
      cur = null;
    } else if (c === "'" || c === '"') {
      quote = c;
      cur ??= "";
    } else if (c === "\\" && i + 1 < s.length) cur = (cur ?? "") + s[++i]!;
    else cur = (cur ?? "") + c;
  }
  if (quote) return null;
  if (cur !== null) out.push(cur);
  return out;
}

/** The commands help.autocorrect may run for an unknown `cmd` (git's weighted Damerau-Levenshtein, floor 7). */
function autocorrect(cmd: string, candidates: string[]): string[] {
  if (COMMON.some((c) => c.startsWith(cmd))) return []; // a prefix of a common command: suggested, never run
  let best = Infinity;
  let found: string[] = [];
  for (const c of new Set(candidates)) {
    const d = levenshtein(cmd, c, 0, 2, 1, 3) + 1;
    if (d < best) [best, found] = [d, [c]];
    else if (d === best) found.push(c);
  }
  // git runs only a unique best; every tie is kept here, since git may know fewer commands than this list.
  return best < 7 ? found : [];
}

function levenshtein(a: string, b: string, w: number, s: number, add: number, del: number): number {
  let row0 = new Array<number>(b.length + 1).fill(0);
  let row1 = Array.from({ length: b.length + 1 }, (_, j) => j * add);
  let row2 = new Array<number>(b.length + 1).fill(0);
  for (let i = 0; i < a.length; i++) {
    row2[0] = (i + 1) * del;
    for (let j = 0; j < b.length; j++) {
      row2[j + 1] = row1[j]! + s * (a[i] !== b[j] ? 1 : 0);
      if (i > 0 && j > 0 && a[i - 1] === b[j] && a[i] === b[j - 1] && row2[j + 1]! > row0[j - 1]! + w) row2[j + 1] = row0[j - 1]! + w;
      if (row2[j + 1]! > row1[j + 1]! + del) row2[j + 1] = row1[j + 1]! + del;
      if (row2[j + 1]! > row2[j]! + add) row2[j + 1] = row2[j]! + add;
    }
    [row0, row1, row2] = [row1, row2, row0];
  }
  return row1[b.length]!;
}
