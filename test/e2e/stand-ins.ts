// The stand-in hook and MCP server (test/e2e/fixtures) used until the real bridge plugs in.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { McpServerEntry } from "./claude.ts";
import { shellQuote } from "./claude.ts";
import { FIXTURES } from "./constants.ts";

export type HookMode = "record" | "context" | "plain" | "deny" | "block" | "wait" | "json" | "json-once" | "by-command";

/** Shell command for settings.json running fixtures/hook.mjs (see its header for modes). */
export function hookCommand(log: string, mode: HookMode, arg?: string): string {
  const parts = [process.execPath, join(FIXTURES, "hook.mjs"), log, mode, ...(arg === undefined ? [] : [arg])];
  return parts.map(shellQuote).join(" ");
}

/** A user-scope / --mcp-config entry for fixtures/mcp-server.mjs (tools `echo`, `whoami`). */
export function fixtureMcpServer(log: string, o: { fail?: boolean; env?: Record<string, string> } = {}): McpServerEntry {
  return {
    type: "stdio",
    command: process.execPath,
    args: [join(FIXTURES, "mcp-server.mjs"), log, ...(o.fail ? ["--fail"] : [])],
    env: o.env ?? {},
  };
}

/** The JSON lines a fixture appended to `file` ([] before the first). */
export function readJsonLines(file: string): any[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  // A line being appended right now may be torn: skip what does not parse.
  return text.split("\n").flatMap((l) => {
    try {
      return l.trim() === "" ? [] : [JSON.parse(l)];
    } catch {
      return [];
    }
  });
}

/** Polls `file` until a line matches; rejects with the lines seen at the deadline. */
export async function waitForLine(file: string, pred: (rec: any) => boolean, deadlineMs: number): Promise<any> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const hit = readJsonLines(file).find(pred);
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) {
      const seen = readJsonLines(file).map((r) => JSON.stringify({ ...r, env: undefined }).slice(0, 200));
      throw new Error(`no matching line in ${file} within ${deadlineMs} ms; lines:\n${seen.join("\n") || "(none)"}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
