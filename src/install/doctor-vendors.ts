// `doctor` for Codex CLI and Gemini CLI: is the MCP server registered where each reads it (Codex
// with the env_vars that carry the identity), are our hooks there, and (Codex) has a person
// approved them: Codex silently skips a hook with no trust entry in config.toml
// (docs/other-agents.md "Hook trust"). An entry is only evidence of an approval, not proof that it
// still matches: Codex's hash is not reproducible from outside.
import { existsSync } from "node:fs";
import type { AgentName } from "../agents/agent.ts";
import { readJsonFile } from "../agents/claude/config.ts";
import { CODEX_MCP_ENV_VARS, codexTrustKey, resolveCodexHome } from "../agents/codex/config.ts";
import { resolveGeminiHome } from "../agents/gemini/config.ts";
import { MCP_SERVER_NAME } from "../agents/tool-names.ts";
import { describeError } from "../lib/errors.ts";
import { isRecord, readFileIfExists } from "../lib/fs.ts";
import { isOurMcpEntry, ourHookName, shellQuote } from "./plan.ts";
import { trustedHookKeys } from "./codex-toml.ts";
import { parse } from "@decimalturn/toml-patch";
import type { Check } from "./check.ts";

type Vendor = Exclude<AgentName, "claude">;

/** The vendors whose config folder exists (for `doctor` without --agent). */
export function foundVendors(env: NodeJS.ProcessEnv): Vendor[] {
  const out: Vendor[] = [];
  if (existsSync(resolveCodexHome(undefined, env).dir)) out.push("codex");
  if (existsSync(resolveGeminiHome(undefined, env).dir)) out.push("gemini");
  return out;
}

export function checkVendor(agent: Vendor, configDir: string | undefined, env: NodeJS.ProcessEnv): Check[] {
  const dirFlag = configDir ? ` --config-dir ${shellQuote(configDir)}` : "";
  const fix = `session-bridge install --agent ${agent}${dirFlag}`;
  try {
    return agent === "codex" ? checkCodex(configDir, env, fix) : checkGemini(configDir, env, fix);
  } catch (err) {
    return [
      {
        name: `${agent} files`,
        level: "fail",
        detail: describeError(err),
        // The error names a backup when install made one (agents/claude/config.ts readJsonFile).
        fix: `repair the file by hand, then run \`session-bridge doctor --agent ${agent}${dirFlag}\` again`,
      },
    ];
  }
}

interface Ours {
  event: string;
  group: number;
  handler: number;
  name: string;
}

function ourHooks(doc: Record<string, unknown>, agent: Vendor): Ours[] {
  const out: Ours[] = [];
  const hooks = isRecord(doc.hooks) ? doc.hooks : {};
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) continue;
    groups.forEach((g, gi) => {
      if (!isRecord(g) || !Array.isArray(g.hooks)) return;
      g.hooks.forEach((h, hi) => {
        const name = isRecord(h) ? ourHookName(h.command) : undefined;
        if (name && String(h.command).endsWith(`--agent ${agent}`)) out.push({ event, group: gi, handler: hi, name });
      });
    });
  }
  return out;
}

function hookChecks(agent: Vendor, ours: Ours[], prompt: string, tool: string, file: string, fix: string): Check[] {
  const checks: Check[] = [];
  const has = (event: string, name: string) => ours.some((o) => o.event === event && o.name === name);
  checks.push(
    has(prompt, "recv")
      ? { name: `${agent} hooks`, level: "ok", detail: `hook recv on ${prompt} in ${file}` }
      : {
          name: `${agent} hooks`,
          level: "fail",
          detail: `no \`hook recv --agent ${agent}\` on ${prompt} in ${file}: messages are not injected`,
          fix,
        },
  );
  checks.push(
    has(tool, "guard")
      ? { name: `${agent} guard`, level: "ok", detail: `hook guard on ${tool}` }
      : { name: `${agent} guard`, level: "warn", detail: `no git guard on ${tool} (installed with --no-block-git?)`, fix },
  );
  return checks;
}

function checkCodex(configDir: string | undefined, env: NodeJS.ProcessEnv, fix: string): Check[] {
  const home = resolveCodexHome(configDir, env);
  const checks: Check[] = [{ name: "codex home", level: "info", detail: home.why }];
  const text = readFileIfExists(home.configPath) ?? "";
  let config: Record<string, unknown>;
  try {
    config = parse(text) as Record<string, unknown>;
  } catch (err) {
    return [
      ...checks,
      {
        name: "codex config.toml",
        level: "fail",
        detail: `${home.configPath} is not valid TOML (${(err as Error).message.split("\n")[0]})`,
        fix: "repair it by hand",
      },
    ];
  }
  const entry = isRecord(config.mcp_servers) ? config.mcp_servers[MCP_SERVER_NAME] : undefined;
  const vars = isRecord(entry) && Array.isArray(entry.env_vars) ? entry.env_vars : [];
  if (!isOurMcpEntry(entry))
    checks.push({
      name: "codex MCP server",
      level: "fail",
      detail: `no [mcp_servers.${MCP_SERVER_NAME}] running session-bridge in ${home.configPath}`,
      fix,
    });
  else if (!CODEX_MCP_ENV_VARS.slice(0, 2).every((v) => vars.includes(v)))
    checks.push({
      name: "codex MCP server",
      level: "fail",
      detail: `env_vars lacks BRIDGE_PROJECT/BRIDGE_ROLE: Codex does not pass them otherwise, so the server has no identity`,
      fix,
    });
  else
    checks.push({
      name: "codex MCP server",
      level: "ok",
      detail: `[mcp_servers.${MCP_SERVER_NAME}] with env_vars${isRecord(entry) && entry.required === true ? ", required" : ""}`,
    });
  const ours = ourHooks(readJsonFile(home.hooksPath).value, "codex");
  checks.push(...hookChecks("codex", ours, "UserPromptSubmit", "PreToolUse", home.hooksPath, fix));
  const trusted = trustedHookKeys(home.configPath, text);
  const unapproved = ours.filter((o) => !trusted.has(codexTrustKey(home.hooksPath, o.event, o.group, o.handler)));
  if (ours.length > 0)
    checks.push(
      unapproved.length === 0
        ? {
            name: "codex hook approval",
            level: "ok",
            detail: `an approval is recorded for each of our ${ours.length} hooks (a changed hook needs approving again)`,
          }
        : {
            name: "codex hook approval",
            level: "warn",
            detail: `not approved: ${unapproved.map((o) => `${o.event} ${o.name}`).join(", ")}; Codex skips an unapproved hook without a word`,
            fix: 'start `codex`, choose "Trust all and continue" or review them in /hooks',
          },
    );
  return checks;
}

function checkGemini(configDir: string | undefined, env: NodeJS.ProcessEnv, fix: string): Check[] {
  const home = resolveGeminiHome(configDir, env);
  const checks: Check[] = [{ name: "gemini settings", level: "info", detail: home.why }];
  const settings = readJsonFile(home.settingsPath).value;
  const entry = isRecord(settings.mcpServers) ? settings.mcpServers[MCP_SERVER_NAME] : undefined;
  checks.push(
    isOurMcpEntry(entry)
      ? { name: "gemini MCP server", level: "ok", detail: `mcpServers.${MCP_SERVER_NAME} in ${home.settingsPath}` }
      : {
          name: "gemini MCP server",
          level: "fail",
          detail: `no mcpServers.${MCP_SERVER_NAME} running session-bridge in ${home.settingsPath}`,
          fix,
        },
  );
  checks.push(...hookChecks("gemini", ourHooks(settings, "gemini"), "BeforeAgent", "BeforeTool", home.settingsPath, fix));
  return checks;
}
