// `session-bridge git-shim`: what the git shim (src/shim/script.ts) asks about a call off its fast
// path. It resolves the call as git itself would (src/shim/resolve.ts, asking the real git through
// src/shim/real-git.ts) and answers with its exit code: 0 lets the shim exec the real git, 126
// refuses, with the reason on stderr. Nothing goes to stdout: that belongs to the git call. The
// policy comes from the arguments the shim was written with, never from the caller's environment.
//
//   session-bridge git-shim [--block-git RE] [--root DIR] [--admin 0|1] [--explain] -- REAL_GIT ARGV0 [ARG…]
import { BridgeError, describeError } from "./lib/errors.ts";
import { checkCommand, parseBlockGit, type GuardPolicy } from "./guard/check.ts";
import { loadSettings, settingsPath } from "./settings/file.ts";
import { RealGit } from "./shim/real-git.ts";
import { resolveGit, type Resolution } from "./shim/resolve.ts";

const USAGE = `usage: session-bridge git-shim [--block-git RE] [--root DIR] [--admin 0|1] [--explain] -- REAL_GIT ARGV0 [ARG…]
  run by the git shim that bridged sessions find first on PATH: exit 0 lets REAL_GIT run the call,
  126 refuses it (why on stderr). --explain prints how the call resolves, as JSON, and always exits 0.`;

/** Exit status of a refused call: like a shell's "found but not run". */
export const REFUSED = 126;

interface ShimArgs {
  blockGit: string;
  root: string | undefined;
  admin: boolean;
  explain: boolean;
  realGit: string;
  argv0: string;
  args: string[];
}

function parseShimArgs(argv: readonly string[]): ShimArgs {
  const out: Partial<ShimArgs> = { blockGit: "", admin: false, explain: false };
  let i = 0;
  for (; i < argv.length && argv[i] !== "--"; i++) {
    const flag = argv[i]!;
    if (flag === "--explain") out.explain = true;
    else if (flag === "--block-git" || flag === "--root" || flag === "--admin") {
      const value = argv[++i];
      if (value === undefined) throw new BridgeError("E_USAGE", `${flag} needs a value\n${USAGE}`);
      if (flag === "--block-git") out.blockGit = value;
      else if (flag === "--root") out.root = value;
      else out.admin = value === "1";
    } else if (flag.startsWith("-")) throw new BridgeError("E_USAGE", `unknown option ${JSON.stringify(flag)}\n${USAGE}`);
    else throw new BridgeError("E_USAGE", `git-shim needs -- before REAL_GIT ARGV0 (got ${JSON.stringify(flag)})\n${USAGE}`);
  }
  const [realGit, argv0, ...args] = argv.slice(i + 1);
  if (i >= argv.length || realGit === undefined || argv0 === undefined)
    throw new BridgeError("E_USAGE", `git-shim needs -- REAL_GIT ARGV0 after its options\n${USAGE}`);
  return { ...(out as ShimArgs), realGit, argv0, args };
}

export async function runGitShim(argv: string[]): Promise<number> {
  if (argv[1] === "--help" || argv[1] === "-h") {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const a = parseShimArgs(argv.slice(1));
  let resolution: Resolution | undefined;
  let decision: Decision;
  try {
    resolution = resolveGit(a.argv0, a.args, new RealGit(a.realGit, process.env));
    decision = decide(resolution, () => policyFor(a));
  } catch (err) {
    decision = { allow: false, reason: `session-bridge git shim: ${describeError(err)}` };
  }
  if (a.explain) {
    process.stdout.write(JSON.stringify({ resolution, decision }) + "\n");
    return 0;
  }
  if (decision.allow) return 0;
  process.stderr.write(decision.reason + "\n");
  return REFUSED;
}

function policyFor(a: ShimArgs): GuardPolicy {
  const blockGit = parseBlockGit(a.blockGit);
  if (a.root === undefined) return { blockGit, denyPatterns: [], protectSettings: !a.admin };
  // Strict, as the guard hook: a settings file that cannot be read must not drop its deny patterns.
  return { blockGit, denyPatterns: loadSettings(a.root).guard.deny, protectSettings: !a.admin, configFile: settingsPath(a.root) };
}

export type Decision = { allow: true } | { allow: false; reason: string };

const HUMAN = "a human decides. To allow it, a human can run it in a terminal";
const HUMAN_CAN = "a human can run it in a terminal";

/**
 * May this resolved call run? A subcommand is refused when it, or any alias expanded on the way,
 * matches the block set; a `!` alias when the guard would deny its shell text; a call the shim
 * cannot place (an unknown global option, an autocorrected typo) always. `policy` is read only
 * when a `!` alias needs the whole guard policy (and for the block set).
 */
export function decide(r: Resolution, policy: () => GuardPolicy): Decision {
  const p = policy();
  const chain = r.kind === "shell-alias" ? r.aliases.slice(0, -1) : r.aliases;
  const via = chain.length > 0 ? ` (through the alias ${chain.join(" → ")})` : "";
  const blockedAlias = r.aliases.find((name) => p.blockGit.test(name));
  const refuse = (what: string, through = via): Decision => ({
    allow: false,
    reason:
      `session-bridge git shim: \`git ${what}\`${through} is blocked in this bridged session. Bridged sessions must not commit, ` +
      `push or reset on their own (git subcommands matching ${p.blockGit}): ${HUMAN}, or start the session with ` +
      `BRIDGE_BLOCK_GIT set to a narrower regex.`,
  });
  if (blockedAlias !== undefined) {
    const before = r.aliases.slice(0, r.aliases.indexOf(blockedAlias));
    return refuse(blockedAlias, before.length > 0 ? ` (through the alias ${before.join(" → ")})` : "");
  }
  switch (r.kind) {
    case "builtin":
    case "external":
      return p.blockGit.test(r.name) ? refuse(r.name) : { allow: true };
    case "none":
      return { allow: true };
    case "shell-alias": {
      // git runs `text "$@"` with sh when there are arguments (run-command.c prepare_shell_cmd).
      const script = r.args.length > 0 ? `${r.text} "$@"` : r.text;
      const verdict = checkCommand(script, p);
      if (verdict.allow) return { allow: true };
      return {
        allow: false,
        reason: `session-bridge git shim: the alias \`${r.name}\`${via} runs \`${r.text}\` through sh, and the guard refuses that: ${verdict.reason}`,
      };
    }
    case "unknown-option":
      return {
        allow: false,
        reason:
          `session-bridge git shim: ${JSON.stringify(r.option)} is not a git option the shim knows, so it cannot tell which ` +
          `subcommand this call runs, and a bridged session fails closed: leave the option out, or ${HUMAN_CAN}.`,
      };
    case "autocorrect":
      return {
        allow: false,
        reason:
          `session-bridge git shim: \`git ${r.name}\` is not a git command, and help.autocorrect=${r.setting} would make git run ` +
          `its best guess instead, which may be a blocked one: spell the subcommand out, or ${HUMAN_CAN}.`,
      };
  }
}
