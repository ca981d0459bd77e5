// `install` and `uninstall`: wire Claude Code to this very binary where Claude Code really
// reads it — the MCP server at user scope in .claude.json (through `claude mcp` when it is on
// PATH), hooks and tool permissions in settings.json — and take exactly that away again.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { parseArgs } from "./lib/args.ts";
import { backupFile, mcpEntry, readJsonFile, resolveConfigDir, writeJsonFile } from "./agents/claude/config.ts";
import type { ConfigDir, JsonFile } from "./agents/claude/config.ts";
import { BridgeError, describeError } from "./lib/errors.ts";
import { desiredHooks, planMcp, planMcpRemoval, planSettings, planSettingsRemoval, shellQuote } from "./install/plan.ts";
import type { Plan } from "./install/plan.ts";
import { selfCommand } from "./runtime/self.ts";
import { MCP_SERVER_NAME } from "./agents/tool-names.ts";
import { findOnPath } from "./lib/proc.ts";
import { badAgent, isAgentName } from "./agents/agent.ts";
import type { AgentName } from "./agents/agent.ts";
import { installVendor, uninstallVendor } from "./install/vendors.ts";
import { dataHome, placeCopy, placeInPlace } from "./install/home.ts";
import { pluginActive, readPluginState } from "./install/doctor-plugin.ts";
import { PLUGIN_ID } from "./agents/tool-names.ts";

const INSTALL_USAGE = `usage: session-bridge install [--agent claude|codex|gemini] [--config-dir DIR] [--no-block-git] [--wake rewake] [--autosend] [--in-place] [--dry-run]
  copies this binary to ~/.local/share/session-bridge/bin (or $XDG_DATA_HOME/session-bridge/bin) and registers that copy
  with the agent CLI (default Claude Code): the MCP server (user scope), the prompt hooks, the git guard; run it again to update
  --agent NAME      claude (default), codex (CODEX_HOME: config.toml, hooks.json) or gemini (~/.gemini/settings.json)
  --config-dir DIR  the CLI's config folder (Claude: $CLAUDE_CONFIG_DIR, else ~/.claude, its MCP servers going to
                    DIR/.claude.json, but for ~/.claude to ~/.claude.json unless $CLAUDE_CONFIG_DIR names it;
                    Codex: $CODEX_HOME, else ~/.codex; Gemini: $GEMINI_CLI_HOME/.gemini, else ~/.gemini)
  --no-block-git    leave out the PreToolUse guard that denies git commit/push/reset in bridged sessions
  --wake rewake     add the Stop hook that wakes an idle session when mail arrives (no tmux, no daemon)
  --autosend        add the Stop hook that sends each final answer (only where BRIDGE_AUTOSEND=1)
  --in-place        run this very file instead of a copy (a clone you rebuild; breaks if it moves)
  --dry-run         print the exact changes and change nothing`;

const UNINSTALL_USAGE = `usage: session-bridge uninstall [--agent claude|codex|gemini] [--config-dir DIR] [--dry-run]
  removes exactly what install added: our hooks, our tool permissions, our MCP server entry`;

type Say = (line: string) => void;

export async function runInstall(argv: string[]): Promise<number> {
  const args = parseArgs(
    argv.slice(1),
    {
      agent: "string",
      "config-dir": "string",
      "no-block-git": "boolean",
      wake: "string",
      autosend: "boolean",
      "in-place": "boolean",
      "dry-run": "boolean",
    },
    INSTALL_USAGE,
  );
  if (args.flags.help) return help(INSTALL_USAGE);
  const agent = agentOption(args.flags.agent, "install");
  if (args.positionals.length > 0)
    throw new BridgeError("E_USAGE", `install takes no arguments (got ${args.positionals.join(" ")})\n${INSTALL_USAGE}`);
  const wake = args.flags.wake;
  if (wake !== undefined && wake !== "rewake")
    throw new BridgeError(
      "E_USAGE",
      `--wake takes "rewake" (got ${JSON.stringify(wake)}); the tmux and spawn drivers are set with \`session-bridge spawner config driver=…\``,
    );
  if (agent !== "claude") {
    if (wake === "rewake")
      throw new BridgeError(
        "E_USAGE",
        `--wake rewake is Claude Code only (${agent} has no asyncRewake hooks); drop it for --agent ${agent}`,
      );
    const say: Say = (line) => process.stdout.write(line + "\n");
    installVendor({
      agent,
      configDir: args.flags["config-dir"] as string | undefined,
      dryRun: args.flags["dry-run"] === true,
      self: launchCommand(say, args.flags["in-place"] === true, args.flags["dry-run"] === true),
      options: { blockGit: !args.flags["no-block-git"], autosend: args.flags.autosend === true },
      say,
    });
    return 0;
  }
  const config = resolveConfigDir(args.flags["config-dir"] as string | undefined, process.env);
  const say: Say = (line) => process.stdout.write(line + "\n");
  say(config.why);
  const self = launchCommand(say, args.flags["in-place"] === true, args.flags["dry-run"] === true);
  const specs = desiredHooks({
    blockGit: !args.flags["no-block-git"],
    autosend: args.flags.autosend === true,
    ...(wake === "rewake" && { wake: "rewake" as const }),
  });

  // Read and plan both files before touching either: a bad file stops everything.
  const settings = readJsonFile(config.settingsPath);
  const settingsPlan = planSettings(settings.value, self, specs);
  const claudeJson = readJsonFile(config.claudeJsonPath);
  const mcpPlan = planMcp(claudeJson.value, self);
  if (hasServerEntry(settings))
    say(
      `note: ${config.settingsPath} has mcpServers.${MCP_SERVER_NAME}, which Claude Code ignores; the real entry goes to ${config.claudeJsonPath}`,
    );

  if (pluginActive(readPluginState(config.dir, settings.value)))
    say(
      `note: the Claude Code plugin ${PLUGIN_ID} is active in ${config.dir} too: with both, every hook runs twice; keep one (\`claude plugin uninstall ${PLUGIN_ID}\`, or \`session-bridge uninstall\` after this)`,
    );
  if (args.flags["dry-run"]) {
    printPlan(say, config.settingsPath, settingsPlan);
    printPlan(say, config.claudeJsonPath, mcpPlan);
    say("dry run: nothing was changed");
    return 0;
  }
  mkdirSync(config.dir, { recursive: true, mode: 0o700 });
  applyPlan(say, settings, settingsPlan);
  registerMcp(say, config, self, mcpPlan, hasServerEntry(claudeJson));
  say(
    `done: start a bridged session with \`BRIDGE_PROJECT=shop BRIDGE_ROLE=web claude\`, and check the wiring with \`session-bridge doctor${config.source === "--config-dir" ? ` --config-dir ${shellQuote(config.dir)}` : ""}\``,
  );
  return 0;
}

export async function runUninstall(argv: string[]): Promise<number> {
  const args = parseArgs(argv.slice(1), { agent: "string", "config-dir": "string", "dry-run": "boolean" }, UNINSTALL_USAGE);
  if (args.flags.help) return help(UNINSTALL_USAGE);
  if (args.positionals.length > 0)
    throw new BridgeError("E_USAGE", `uninstall takes no arguments (got ${args.positionals.join(" ")})\n${UNINSTALL_USAGE}`);
  const agent = agentOption(args.flags.agent, "uninstall");
  if (agent !== "claude") {
    const say: Say = (line) => process.stdout.write(line + "\n");
    uninstallVendor({ agent, configDir: args.flags["config-dir"] as string | undefined, dryRun: args.flags["dry-run"] === true, say });
    return 0;
  }
  const config = resolveConfigDir(args.flags["config-dir"] as string | undefined, process.env);
  const say: Say = (line) => process.stdout.write(line + "\n");
  say(config.why);
  const settings = readJsonFile(config.settingsPath);
  const settingsPlan = planSettingsRemoval(settings.value);
  const claudeJson = readJsonFile(config.claudeJsonPath);
  const mcpPlan = planMcpRemoval(claudeJson.value);
  const stranger = (claudeJson.value.mcpServers as Record<string, unknown> | undefined)?.[MCP_SERVER_NAME];
  if (stranger !== undefined && mcpPlan.changes.length === 0)
    say(`note: mcpServers.${MCP_SERVER_NAME} in ${config.claudeJsonPath} does not run session-bridge; left alone`);
  if (args.flags["dry-run"]) {
    printPlan(say, config.settingsPath, settingsPlan);
    printPlan(say, config.claudeJsonPath, mcpPlan);
    say("dry run: nothing was changed");
    return 0;
  }
  applyPlan(say, settings, settingsPlan);
  unregisterMcp(say, config, mcpPlan);
  const home = dataHome(process.env);
  if (existsSync(home)) say(`note: the copy in ${home} stays (another config folder may still run it); \`rm -r ${home}\` removes it`);
  return 0;
}

function agentOption(value: unknown, command: "install" | "uninstall"): AgentName {
  if (value === undefined) return "claude";
  if (isAgentName(value)) return value;
  throw new BridgeError("E_USAGE", `${badAgent(value)}; \`session-bridge ${command} --help\` says what each does`);
}

/** What Claude Code will run: a stable copy of this binary (src/install/home.ts), or with --in-place a launcher of this very file. */
function launchCommand(say: Say, inPlace: boolean, dryRun: boolean): string[] {
  const self = selfCommand();
  const placed = (inPlace ? placeInPlace : placeCopy)(dataHome(process.env), self, process.env, dryRun);
  for (const line of placed.lines) say(line);
  return placed.command;
}

function help(usage: string): number {
  process.stdout.write(usage + "\n");
  return 0;
}

function printPlan(say: Say, path: string, plan: Plan): void {
  say(plan.changes.length === 0 ? `${path}: no change` : `${path}:`);
  for (const change of plan.changes) say(`  ${change}`);
}

function applyPlan(say: Say, file: JsonFile, plan: Plan): void {
  if (plan.changes.length === 0) {
    say(`${file.path}: already up to date`);
    return;
  }
  const backup = backupFile(file);
  writeJsonFile(file, plan.next);
  say(`${file.path}: updated${backup ? ` (backup: ${backup})` : ""}`);
  for (const change of plan.changes) say(`  ${change}`);
}

/** `claude` on PATH, if any: it is the safest writer of its own busy state file. */
export function findClaude(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findOnPath("claude", env);
}

function claudeEnv(config: ConfigDir): NodeJS.ProcessEnv {
  // `claude mcp` must run with the variable exactly as the sessions will: whether it is set picks
  // the .claude.json (docs/claude-code.md "Configuration files"), even for ~/.claude itself.
  const env = { ...process.env };
  if (config.claudeConfigDirVar === undefined) delete env.CLAUDE_CONFIG_DIR;
  else env.CLAUDE_CONFIG_DIR = config.claudeConfigDirVar;
  return env;
}

function runClaudeMcp(claude: string, config: ConfigDir, args: string[]): { ok: boolean; output: string } {
  const r = spawnSync(claude, ["mcp", ...args], { env: claudeEnv(config), encoding: "utf8", timeout: 60_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() || describeError(r.error) };
}

function hasServerEntry(file: JsonFile): boolean {
  const servers = file.value.mcpServers;
  return typeof servers === "object" && servers !== null && MCP_SERVER_NAME in servers;
}

function registerMcp(say: Say, config: ConfigDir, self: readonly string[], plan: Plan, existed: boolean): void {
  if (plan.changes.length === 0) {
    say(`${config.claudeJsonPath}: MCP server "${MCP_SERVER_NAME}" already registered`);
    return;
  }
  const claude = findClaude();
  if (claude) {
    // add-json refuses a name that exists: replace an outdated entry (e.g. the binary moved).
    if (existed) runClaudeMcp(claude, config, ["remove", "--scope", "user", MCP_SERVER_NAME]);
    const added = runClaudeMcp(claude, config, ["add-json", "--scope", "user", MCP_SERVER_NAME, JSON.stringify(mcpEntry(self))]);
    // Trust the file, not the exit code: what matters is the entry Claude Code will read.
    if (added.ok && planMcp(readJsonFile(config.claudeJsonPath).value, self).changes.length === 0) {
      say(`${config.claudeJsonPath}: registered MCP server "${MCP_SERVER_NAME}" with \`${claude} mcp add-json --scope user\``);
      for (const change of plan.changes) say(`  ${change}`);
      return;
    }
    say(`note: \`claude mcp add-json\` did not register it (${added.output}); editing ${config.claudeJsonPath} directly`);
  }
  editClaudeJson(say, config, (value) => planMcp(value, self));
}

function unregisterMcp(say: Say, config: ConfigDir, plan: Plan): void {
  if (plan.changes.length === 0) {
    say(`${config.claudeJsonPath}: no MCP server of ours registered`);
    return;
  }
  const claude = findClaude();
  if (claude) {
    const removed = runClaudeMcp(claude, config, ["remove", "--scope", "user", MCP_SERVER_NAME]);
    if (removed.ok && planMcpRemoval(readJsonFile(config.claudeJsonPath).value).changes.length === 0) {
      say(`${config.claudeJsonPath}: removed MCP server "${MCP_SERVER_NAME}" with \`${claude} mcp remove --scope user\``);
      return;
    }
    say(`note: \`claude mcp remove\` did not remove it (${removed.output}); editing ${config.claudeJsonPath} directly`);
  }
  editClaudeJson(say, config, planMcpRemoval);
}

/**
 * .claude.json is Claude Code's busy state file (running sessions rewrite it): re-read it right
 * before writing, re-plan on that fresh content, and replace it atomically touching only our key.
 */
function editClaudeJson(say: Say, config: ConfigDir, plan: (value: Record<string, unknown>) => Plan): void {
  const fresh = readJsonFile(config.claudeJsonPath);
  const result = plan(fresh.value);
  if (result.changes.length === 0) return;
  const backup = backupFile(fresh);
  writeJsonFile(fresh, result.next);
  say(`${config.claudeJsonPath}: updated${backup ? ` (backup: ${backup})` : ""}`);
  for (const change of result.changes) say(`  ${change}`);
}
