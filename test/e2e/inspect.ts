// Reading what Claude Code sent: the text the model sees, tool results, offered tools.
// Shapes as seen from 2.1.328 (see NOTES.md): besides the top-level `system`, `messages` holds
// role:"system" entries (environment, hook context) whose content is a string or text blocks.
import type { ModelRequest } from "./model-server.ts";

type Block = { type: string; text?: string; content?: unknown; is_error?: boolean; tool_use_id?: string; name?: string; input?: unknown };

function blocksOf(content: unknown): Block[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? (content as Block[]) : [];
}

export function assistantTurns(body: any): number {
  const msgs: unknown = body?.messages;
  return Array.isArray(msgs) ? msgs.filter((m: any) => m?.role === "assistant").length : 0;
}

/** Text of a block list, tool_result contents included. */
export function textOf(content: unknown): string {
  return blocksOf(content)
    .map((b) => (b.type === "text" ? (b.text ?? "") : b.type === "tool_result" ? textOf(b.content) : ""))
    .filter((s) => s !== "")
    .join("\n");
}

/** All text the model sees: system prompt, every message (system-role ones too), tool results. */
export function requestText(req: ModelRequest): string {
  const body = req.body ?? {};
  const parts = [textOf(body.system)];
  for (const m of Array.isArray(body.messages) ? body.messages : []) parts.push(textOf(m?.content));
  return parts.join("\n");
}

/** Text of each role:"system" message inside `messages` (environment, hook additionalContext). */
export function systemMessages(req: ModelRequest): string[] {
  const msgs: any[] = Array.isArray(req.body?.messages) ? req.body.messages : [];
  return msgs.filter((m) => m?.role === "system").map((m) => textOf(m.content));
}

/** Text of the last user-role message (hook context and rewake reminders land there too). */
export function lastUserText(req: ModelRequest): string {
  const msgs: any[] = Array.isArray(req.body?.messages) ? req.body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i]?.role === "user") return textOf(msgs[i].content);
  return "";
}

/**
 * Routes by the working directory Claude Code reports ("Primary working directory: DIR" in the
 * environment system message of every turn request, 2.1.328), for processes sharing one base URL.
 */
export function byCwd(dir: string): (req: ModelRequest) => boolean {
  const line = `Primary working directory: ${dir}\n`;
  return (req) => req.kind === "turn" && requestText(req).includes(line);
}

/**
 * Tool names the model is offered: loaded ones from `tools`, plus deferred ones. 2.1.328 defers
 * MCP tools behind ToolSearch: they are only named in a system message ("The following deferred
 * tools are now available via ToolSearch…", one name a line), yet a direct call still works.
 */
export function offeredTools(req: ModelRequest): { loaded: string[]; deferred: string[] } {
  const tools: any[] = Array.isArray(req.body?.tools) ? req.body.tools : [];
  const loaded = tools.filter((x) => x?.defer_loading !== true && typeof x?.name === "string").map((x) => x.name as string);
  const m = /deferred tools are now available[^\n]*\n((?:[A-Za-z0-9_-]+\n)+)/.exec(requestText(req));
  const deferred = m?.[1] ? m[1].trim().split("\n") : [];
  return { loaded, deferred };
}

export interface ToolResult {
  tool_use_id: string;
  is_error: boolean;
  text: string;
}

export function toolResults(req: ModelRequest): ToolResult[] {
  const out: ToolResult[] = [];
  for (const m of Array.isArray(req.body?.messages) ? req.body.messages : []) {
    for (const b of blocksOf(m?.content)) {
      if (b.type === "tool_result") out.push({ tool_use_id: b.tool_use_id ?? "", is_error: b.is_error === true, text: textOf(b.content) });
    }
  }
  return out;
}

export function describeRequests(requests: readonly ModelRequest[]): string {
  if (requests.length === 0) return "  (none)";
  return requests
    .slice(-12)
    .map(
      (r) =>
        `  #${r.seq} ${r.kind} ${r.method} ${r.url} turn=${assistantTurns(r.body)} user=${JSON.stringify(lastUserText(r).slice(-120))}`,
    )
    .join("\n");
}
