// `install|uninstall --agent codex|gemini`: the Claude Code install's guarantees (plan first, a bad
// file stops everything, --dry-run, backups, a second run changes nothing, uninstall removes exactly
// ours) for Codex CLI (hooks.json + config.toml) and Gemini CLI (settings.json: hooks and mcpServers).
import { mkdirSync, statSync } from "node:fs";
import { BridgeError } from "../lib/errors.ts";
import type { AgentName } from "../agents/agent.ts";
import { backupFile, readJsonFile, writeJsonFile } from "../agents/claude/config.ts";
import type { JsonFile } from "../agents/claude/config.ts";
import { codexMcpEntry, resolveCodexHome } from "../agents/codex/config.ts";
import { geminiMcpEntry, resolveGeminiHome } from "../agents/gemini/config.ts";
import { MCP_SERVER_NAME } from "../agents/tool-names.ts";
import { isRecord, readFileIfExists, writeFileAtomic } from "../lib/fs.ts";
import { planSettings, planSettingsRemoval, isOurMcpEntry, shellQuote } from "./plan.ts";
import type { InstallOptions, Plan } from "./plan.ts";
import { planCodexMcp, planCodexMcpRemoval } from "./codex-toml.ts";
import type { TomlPlan } from "./codex-toml.ts";
import { vendorHooks } from "./vendor-hooks.ts";

type Say = (line: string) => void;
type Vendor = Exclude<AgentName, "claude">;

export interface VendorRun {
  agent: Vendor;
  configDir: string | undefined;
  dryRun: boolean;
  self: readonly string[];
  options: InstallOptions;
  say: Say;
}

export function installVendor(run: VendorRun): void {
  const { say } = run;
  if (run.agent === "codex") {
    const home = resolveCodexHome(run.configDir, process.env);
    say(home.why);
    const hooks = readJsonFile(home.hooksPath);
    const hooksPlan = planSettings(hooks.value, run.self, vendorHooks("codex", run.options), false);
    const config = readText(home.configPath);
    const tomlPlan = planCodexMcp(home.configPath, config.text, codexMcpEntry(run.self));
    if (run.dryRun)
      return dry(say, [
        [home.hooksPath, hooksPlan.changes],
        [home.configPath, tomlPlan.changes],
      ]);
    mkdirSync(home.dir, { recursive: true, mode: 0o700 });
    applyJson(say, hooks, hooksPlan);
    applyText(say, config, tomlPlan);
    say(
      'next: Codex runs a hook only after you approve it. Start `codex` once and choose "Trust all and continue" ' +
        `(or review them in /hooks); until then the hooks are silently skipped. \`session-bridge doctor --agent codex${run.configDir === undefined ? "" : ` --config-dir ${shellQuote(run.configDir)}`}\` shows which are approved.`,
    );
    say("done: start a bridged session with `BRIDGE_PROJECT=shop BRIDGE_ROLE=api codex`");
    return;
  }
  const home = resolveGeminiHome(run.configDir, process.env);
  say(home.why);
  const settings = readJsonFile(home.settingsPath);
  const hooksPlan = planSettings(settings.value, run.self, vendorHooks("gemini", run.options), false);
  const plan = planGeminiMcp(hooksPlan, geminiMcpEntry(run.self));
  if (run.dryRun) return dry(say, [[home.settingsPath, plan.changes]]);
  mkdirSync(home.dir, { recursive: true, mode: 0o700 });
  applyJson(say, settings, plan);
  say("note: Gemini loads hooks only in a trusted folder; trust your project folder when Gemini asks.");
  say("done: start a bridged session with `BRIDGE_PROJECT=shop BRIDGE_ROLE=api gemini`");
}

export function uninstallVendor(run: Omit<VendorRun, "self" | "options">): void {
  const { say } = run;
  if (run.agent === "codex") {
    const home = resolveCodexHome(run.configDir, process.env);
    say(home.why);
    const hooks = readJsonFile(home.hooksPath);
    const hooksPlan = planSettingsRemoval(hooks.value);
    const config = readText(home.configPath);
    const tomlPlan = planCodexMcpRemoval(home.configPath, config.text);
    if (run.dryRun)
      return dry(say, [
        [home.hooksPath, hooksPlan.changes],
        [home.configPath, tomlPlan.changes],
      ]);
    applyJson(say, hooks, hooksPlan);
    applyText(say, config, tomlPlan);
    return;
  }
  const home = resolveGeminiHome(run.configDir, process.env);
  say(home.why);
  const settings = readJsonFile(home.settingsPath);
  const plan = planGeminiMcpRemoval(planSettingsRemoval(settings.value));
  if (run.dryRun) return dry(say, [[home.settingsPath, plan.changes]]);
  applyJson(say, settings, plan);
}

/** Adds our mcpServers entry to a settings plan (Gemini keeps both in one file). */
export function planGeminiMcp(plan: Plan, want: Record<string, unknown>): Plan {
  const next = plan.next;
  if (next.mcpServers !== undefined && !isRecord(next.mcpServers))
    throw new BridgeError("E_CONFIG", `"mcpServers" in Gemini's settings.json is not an object; fix it by hand — nothing was changed`);
  const servers = (next.mcpServers ??= {}) as Record<string, unknown>;
  const have = servers[MCP_SERVER_NAME];
  if (JSON.stringify(have) === JSON.stringify(want)) return plan;
  servers[MCP_SERVER_NAME] = want;
  const change =
    have === undefined
      ? `+ mcpServers.${MCP_SERVER_NAME}: ${JSON.stringify(want)}`
      : `~ mcpServers.${MCP_SERVER_NAME}: ${JSON.stringify(have)} → ${JSON.stringify(want)}`;
  return { next, changes: [...plan.changes, change] };
}

function planGeminiMcpRemoval(plan: Plan): Plan {
  const servers = plan.next.mcpServers;
  if (!isRecord(servers) || !isOurMcpEntry(servers[MCP_SERVER_NAME])) return plan;
  const have = servers[MCP_SERVER_NAME];
  delete servers[MCP_SERVER_NAME];
  if (Object.keys(servers).length === 0) delete plan.next.mcpServers;
  return { next: plan.next, changes: [...plan.changes, `- mcpServers.${MCP_SERVER_NAME}: ${JSON.stringify(have)}`] };
}

/** A text file in JsonFile's shape (value unused), so backupFile serves it too. */
type TextFile = JsonFile;

function readText(path: string): TextFile {
  const text = readFileIfExists(path);
  if (text === undefined) return { path, exists: false, value: {}, text: "", mode: 0o600, indent: "" };
  return { path, exists: true, value: {}, text, mode: statSync(path).mode & 0o777, indent: "" };
}

function dry(say: Say, files: [string, string[]][]): void {
  for (const [path, changes] of files) {
    say(changes.length === 0 ? `${path}: no change` : `${path}:`);
    for (const c of changes) say(`  ${c}`);
  }
  say("dry run: nothing was changed");
}

function applyJson(say: Say, file: JsonFile, plan: Plan): void {
  if (plan.changes.length === 0) return say(`${file.path}: already up to date`);
  const backup = backupFile(file);
  writeJsonFile(file, plan.next);
  say(`${file.path}: updated${backup ? ` (backup: ${backup})` : ""}`);
  for (const c of plan.changes) say(`  ${c}`);
}

function applyText(say: Say, file: TextFile, plan: TomlPlan): void {
  if (plan.changes.length === 0) return say(`${file.path}: already up to date`);
  const backup = backupFile(file);
  writeFileAtomic(file.path, plan.text, { mode: file.mode });
  say(`${file.path}: updated${backup ? ` (backup: ${backup})` : ""}`);
  for (const c of plan.changes) say(`  ${c}`);
}
