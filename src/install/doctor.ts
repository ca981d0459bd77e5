// `doctor`: is Claude Code wired to this binary where it really reads it, and is the bus healthy?
// Each problem comes with the command that fixes it; exit 1 when anything is broken.
import { spawnSync } from "node:child_process";
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "../lib/args.ts";
import { listProjects, listRoles } from "../bus.ts";
import { resolveConfigDir } from "../agents/claude/config.ts";
import { loadSettings, settingsPath } from "../settings/file.ts";
import { BridgeError, describeError, isErrno } from "../lib/errors.ts";
import { shellQuote } from "./plan.ts";
import { readAllKept } from "../bus/inbox.ts";
import { resolveRoot, rolePaths } from "../bus/layout.ts";
import { describeUnknown, identityFromEnv } from "../bus/identity-env.ts";
import { selfCommand } from "../runtime/self.ts";
import { readDaemonHolder } from "../spawner/state.ts";
import { shimState } from "../shim/install.ts";
import { badAgent, isAgentName } from "../agents/agent.ts";
import { checkClaudeWiring, missingFiles } from "./doctor-claude.ts";
import { checkVendor, foundVendors } from "./doctor-vendors.ts";
import { storeChecks } from "../store/store.ts";

import type { Check } from "./check.ts";

const USAGE = `usage: session-bridge doctor [--agent claude|codex|gemini] [--config-dir DIR] [--json]
  checks the agent CLI's wiring (MCP server, hooks; without --agent: Claude Code and every other CLI
  whose config folder exists), this binary, tmux, the bus folder and the daemon`;

export async function runDoctor(argv: string[]): Promise<number> {
  const args = parseArgs(argv.slice(1), { agent: "string", "config-dir": "string", json: "boolean" }, USAGE);
  if (args.flags.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (args.positionals.length > 0) throw new BridgeError("E_USAGE", `doctor takes no arguments\n${USAGE}`);
  const agent = args.flags.agent;
  if (agent !== undefined && !isAgentName(agent))
    throw new BridgeError("E_USAGE", `${badAgent(agent)}; \`session-bridge doctor --help\` says what each does`);
  const vendorDir = agent !== undefined && agent !== "claude" ? (args.flags["config-dir"] as string | undefined) : undefined;
  const vendors = agent === undefined ? foundVendors(process.env) : agent === "claude" ? [] : [agent];
  const config = resolveConfigDir(vendorDir === undefined ? (args.flags["config-dir"] as string | undefined) : undefined, process.env);
  const flag = config.source === "--config-dir" ? ` --config-dir ${shellQuote(config.dir)}` : "";
  // The closing hint repeats the flags given: without them doctor checks other folders.
  const given = args.flags["config-dir"] as string | undefined;
  const again = `session-bridge doctor${agent ? ` --agent ${agent}` : ""}${given !== undefined ? ` --config-dir ${shellQuote(vendorDir ?? config.dir)}` : ""}`;
  const claude = agent === undefined || agent === "claude";
  const checks = [
    ...(claude ? [{ name: "config folder", level: "info" as const, detail: config.why }] : []),
    ...checkBinary(),
    ...(claude ? checkClaudeWiring(config, flag) : []),
    ...vendors.flatMap((v) => checkVendor(v, vendorDir, process.env)),
    checkNode(),
    checkTmux(),
    checkShell(),
    // The shim comes through Claude Code's CLAUDE_ENV_FILE: the other CLIs never get one.
    ...(claude ? [checkGitShim(process.env)] : []),
    ...checkBus(resolveRoot(process.env)),
    // BRIDGE_URL naming Redis: connection, ACL and persistence (src/store/redis/doctor.ts).
    ...(await storeChecks(process.env)),
  ];
  const ok = !checks.some((c) => c.level === "fail");
  if (args.flags.json) process.stdout.write(JSON.stringify({ ok, configDir: config.dir, configSource: config.source, checks }) + "\n");
  else {
    for (const c of checks) process.stdout.write(`${c.level.padEnd(4)}  ${c.name}: ${c.detail}${c.fix ? `\n      fix: ${c.fix}` : ""}\n`);
    process.stdout.write(ok ? "all good\n" : `problems found: run the fixes above, then \`${again}\` again\n`);
  }
  return ok ? 0 : 1;
}

function checkBinary(): Check[] {
  let self: string[];
  try {
    self = selfCommand();
  } catch (err) {
    return [{ name: "this binary", level: "fail", detail: describeError(err) }];
  }
  const r = spawnSync(self[0]!, [...self.slice(1), "--version"], { encoding: "utf8", timeout: 20_000 });
  const version = r.stdout?.trim();
  if (r.status !== 0 || version !== __VERSION__) {
    return [
      {
        name: "this binary",
        level: "fail",
        detail: `${self.join(" ")} --version gave ${JSON.stringify(version)} (exit ${r.status})`,
        fix: "rebuild it: npm run build",
      },
    ];
  }
  return [{ name: "this binary", level: "ok", detail: `${self.join(" ")} (version ${version})` }];
}

function checkNode(): Check {
  const major = Number(process.versions.node.split(".")[0]);
  return major >= 20
    ? { name: "node", level: "ok", detail: `${process.version} (${process.execPath})` }
    : {
        name: "node",
        level: "fail",
        detail: `${process.version} is too old: Node 20 or newer is needed`,
        fix: "install Node 20+, or use the single executable (npm run build:sea)",
      };
}

function checkTmux(): Check {
  const r = spawnSync("tmux", ["-V"], { encoding: "utf8", timeout: 10_000 });
  return r.status === 0
    ? { name: "tmux", level: "ok", detail: r.stdout.trim() }
    : {
        name: "tmux",
        level: "warn",
        detail: "not found: only the tmux wake driver needs it (hooks, rewake and spawn work without)",
        fix: "apt-get install tmux (or brew install tmux)",
      };
}

/** The BRIDGE_* variables of this shell: what a session started from it would be. */
function checkShell(): Check {
  const vars = Object.entries(process.env).filter(([k]) => k.startsWith("BRIDGE_"));
  const shown = vars.map(([k, v]) => `${k}=${v}`).join(" ");
  const found = identityFromEnv(process.env);
  if (found.kind === "half")
    return {
      name: "this shell",
      level: "fail",
      detail: `${shown}: a Claude Code session started from here is not connected: ${found.problems.join("; ")}`,
      fix: found.fix,
    };
  if (found.kind === "complete" && found.unknown.length > 0)
    return {
      name: "this shell",
      level: "warn",
      detail: `${shown}: ${found.unknown.map(describeUnknown).join("; ")}`,
      fix: `unset ${found.unknown.join(" ")}, or set the variable it was meant to be`,
    };
  return {
    name: "this shell",
    level: "info",
    detail:
      found.kind === "none"
        ? `no BRIDGE_PROJECT/BRIDGE_ROLE set (not a bridged shell)${vars.length > 0 ? `; ${shown}` : ""}`
        : `${shown} (a session started here is role ${found.role} of project ${found.project})`,
  };
}

/** Whether this shell's `git` is the shim a bridged session gets at SessionStart (README "Safety"). */
export function checkGitShim(env: NodeJS.ProcessEnv): Check {
  const name = "git shim";
  const s = shimState(env);
  if (s.state === "in place") {
    if (s.realGit === undefined)
      return {
        name,
        level: "fail",
        detail: `${s.shim} is first on PATH but no real git follows it: every git call fails`,
        fix: "install git",
      };
    if (s.decider !== undefined && missingFiles([s.decider]).length > 0)
      return {
        name,
        level: "fail",
        detail: `${s.shim} asks ${s.decider}, which does not exist: git calls off its fast path are refused`,
        fix: "session-bridge install, then start a new session (SessionStart rewrites the shim)",
      };
    return { name, level: "ok", detail: `in place for this shell: ${s.shim}, in front of ${s.realGit}. ${s.policy}` };
  }
  const inSession = env.CLAUDECODE === "1" && Boolean(env.BRIDGE_PROJECT) && Boolean(env.BRIDGE_ROLE);
  return inSession
    ? {
        name,
        level: "warn",
        detail: `not in place: this is a bridged Claude Code session, but its first git on PATH is ${s.git ?? "none"}; only the guard hook checks git here`,
        fix: "check that hook recv is on SessionStart (above), then start a new session or /clear: SessionStart puts the shim in place",
      }
    : {
        name,
        level: "info",
        detail: `not in this shell (${env.CLAUDECODE === "1" ? "an unbridged Claude Code session" : "not a Claude Code session"}); bridged sessions get it first on PATH at SessionStart`,
      };
}

function checkBus(root: string): Check[] {
  const checks: Check[] = [];
  let st;
  try {
    st = lstatSync(root);
  } catch (err) {
    if (!isErrno(err, "ENOENT")) throw err;
    return [{ name: "bus folder", level: "info", detail: `${root} does not exist yet (created by the first send or session)` }];
  }
  const loose = st.isSymbolicLink() ? [root] : findLoose(root);
  checks.push(
    loose.length === 0
      ? { name: "bus folder", level: "ok", detail: `${root}: private (folders 0700, files 0600)` }
      : {
          name: "bus folder",
          level: "fail",
          detail: `readable by others or not a real folder: ${loose.slice(0, 5).join(", ")}${loose.length > 5 ? ` and ${loose.length - 5} more` : ""}`,
          fix: `chmod -R go-rwx ${root}`,
        },
  );
  let skipped = 0;
  const where: string[] = [];
  for (const project of listProjects(root)) {
    for (const role of listRoles(root, project)) {
      const n = readAllKept(rolePaths(root, project, role)).skipped;
      if (n > 0) where.push(`${project}/${role}: ${n}`);
      skipped += n;
    }
  }
  if (skipped > 0)
    checks.push({
      name: "inboxes",
      level: "warn",
      detail: `${skipped} unreadable line(s) skipped (torn by a crash, or not a message) — ${where.join(", ")}; nothing else is affected`,
    });
  else checks.push({ name: "inboxes", level: "ok", detail: "every line readable" });
  try {
    const settings = loadSettings(root);
    checks.push({
      name: "settings",
      level: "ok",
      detail: `automation ${settings.enabled ? "on" : "off"}, driver ${settings.driver}, maxHops ${settings.maxHops}`,
    });
    const daemon = readDaemonHolder(root);
    if (daemon.running) checks.push({ name: "spawner", level: "ok", detail: `daemon running (pid ${daemon.holder?.pid})` });
    else if (settings.enabled)
      checks.push({
        name: "spawner",
        level: "warn",
        detail: "automation is on but the wake daemon is not running (tmux/spawn wakes need it; rewake does not)",
        fix: "session-bridge spawner run",
      });
    else checks.push({ name: "spawner", level: "info", detail: "daemon not running; automation is off" });
  } catch (err) {
    checks.push({ name: "settings", level: "fail", detail: describeError(err), fix: `fix or delete ${settingsPath(root)}` });
  }
  return checks;
}

function findLoose(dir: string): string[] {
  const loose: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const st = lstatSync(path);
    if (st.isSymbolicLink() || (st.mode & 0o077) !== 0) loose.push(path);
    else if (st.isDirectory()) loose.push(...findLoose(path));
  }
  if ((lstatSync(dir).mode & 0o077) !== 0) loose.unshift(dir);
  return loose;
}
