// Our [mcp_servers.session-bridge] table in Codex's config.toml, edited with @decimalturn/toml-patch
// so every other key, comment and table stays byte for byte. `codex mcp add` cannot write
// `env_vars` or `required` (docs/other-agents.md), which our entry needs, so the file is edited
// here. Loaded only by the install bundle, never by a hook.
import { parse, patch, stringify } from "@decimalturn/toml-patch";
import { BridgeError } from "../lib/errors.ts";
import { isRecord } from "../lib/fs.ts";
import { MCP_SERVER_NAME } from "../agents/tool-names.ts";
import { latestBackup } from "../agents/claude/config.ts";
import { isOurMcpEntry } from "./plan.ts";

export interface TomlPlan {
  text: string;
  changes: string[];
}

function parseConfig(path: string, text: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    const backup = latestBackup(path);
    throw new BridgeError(
      "E_CONFIG",
      `${path} is not valid TOML (${(err as Error).message.split("\n")[0]}); fix it by hand${backup ? ` or restore ${backup}` : ""} — nothing was changed`,
    );
  }
}

function servers(path: string, doc: Record<string, unknown>): Record<string, unknown> | undefined {
  const s = doc.mcp_servers;
  if (s !== undefined && !isRecord(s))
    throw new BridgeError("E_CONFIG", `"mcp_servers" in ${path} is not a table; fix it by hand — nothing was changed`);
  return s;
}

/** config.toml with exactly our server entry (added at the end, or replaced); "" reads as empty. */
export function planCodexMcp(path: string, text: string, want: Record<string, unknown>): TomlPlan {
  const doc = parseConfig(path, text);
  const have = servers(path, doc)?.[MCP_SERVER_NAME];
  if (JSON.stringify(have) === JSON.stringify(want)) return { text, changes: [] };
  // An outdated entry (the binary moved): take it out, then append the new one.
  const base = have === undefined ? text : removeEntry(text, doc);
  const sep = base === "" ? "" : base.endsWith("\n\n") ? "" : base.endsWith("\n") ? "\n" : "\n\n";
  const next = `${base}${sep}[mcp_servers.${MCP_SERVER_NAME}]\n${stringify(want)}`;
  const shown = JSON.stringify(want);
  return {
    text: next,
    changes: [
      have === undefined
        ? `+ [mcp_servers.${MCP_SERVER_NAME}]: ${shown}`
        : `~ [mcp_servers.${MCP_SERVER_NAME}]: ${JSON.stringify(have)} → ${shown}`,
    ],
  };
}

/** config.toml without our server entry (an entry of that name that does not run session-bridge stays). */
export function planCodexMcpRemoval(path: string, text: string): TomlPlan {
  const doc = parseConfig(path, text);
  const have = servers(path, doc)?.[MCP_SERVER_NAME];
  if (!isOurMcpEntry(have)) return { text, changes: [] };
  return { text: removeEntry(text, doc), changes: [`- [mcp_servers.${MCP_SERVER_NAME}]: ${JSON.stringify(have)}`] };
}

function removeEntry(text: string, doc: Record<string, unknown>): string {
  const next = structuredClone(doc);
  const s = next.mcp_servers as Record<string, unknown>;
  delete s[MCP_SERVER_NAME];
  // A table we emptied goes too, so an install then uninstall leaves the file as it was.
  if (Object.keys(s).length === 0 && !/^\s*\[mcp_servers\]\s*$/m.test(text)) delete next.mcp_servers;
  return patch(text, next);
}

/** Trust entries `[hooks.state."KEY"] trusted_hash` Codex wrote for approved hooks (docs/other-agents.md). */
export function trustedHookKeys(path: string, text: string): Set<string> {
  const doc = parseConfig(path, text);
  const state = isRecord(doc.hooks) && isRecord(doc.hooks.state) ? doc.hooks.state : {};
  return new Set(
    Object.entries(state)
      .filter(([, v]) => isRecord(v) && typeof v.trusted_hash === "string")
      .map(([k]) => k),
  );
}
