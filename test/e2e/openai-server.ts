// A scripted OpenAI Responses API for the real Codex CLI (see test/e2e/NOTES.md, "Codex CLI and
// Gemini CLI"). Codex 0.169.0 with a custom provider (`wire_api = "responses"`) only sends
// `POST {base_url}/responses` with `stream: true` and reads SSE `data:` events: one
// `response.output_item.done` per output item, then `response.completed`.
//
// A step becomes output items: its text an assistant `message` with one `output_text`, each tool
// a `function_call` whose `arguments` is the JSON text of the input. An MCP tool is named as hooks
// see it, `mcp__SERVER__TOOL`; it is sent as `{namespace: "mcp__SERVER", name: "TOOL"}`, the
// shape Codex offers MCP tools in. Function results come back in the next request as
// `function_call_output` items with the same `call_id`.
import type { ServerResponse } from "node:http";
import type { Step } from "./model-server.ts";
import {
  type Protocol,
  type ScriptedRequest,
  type ScriptedServer,
  type ScriptedServerOptions,
  sendJson,
  startScriptedServer,
  startSse,
} from "./scripted-server.ts";

export { callTool, callTools, reply, type Script, type ScriptedRequest, type Step } from "./scripted-server.ts";

export type OpenAIServer = ScriptedServer;

export function startOpenAIServer(opts: ScriptedServerOptions = {}): Promise<OpenAIServer> {
  return startScriptedServer(RESPONSES, opts);
}

const RESPONSES: Protocol = {
  name: "openai-server",
  classify: (req) => (req.method === "POST" && /\/responses$/.test(req.path) ? "turn" : "other"),
  turns: (req) => modelReplies(req),
  lastUserText,
  answerTurn: (res, req, step) => sendResponse(res, req, step),
  // Codex 0.169.0 makes no side requests in the flows driven here; nothing is classified "side".
  answerSide: (res, req) => sendResponse(res, req, { text: "e2e side answer" }),
  errorBody: (status, message) => ({ error: { message, type: status === 404 ? "not_found" : "server_error", code: null } }),
};

// ---- reading a request ----

type Item = { type?: string; role?: string; content?: unknown; call_id?: string; output?: unknown; name?: string; namespace?: string };

export function inputItems(req: ScriptedRequest): Item[] {
  const input = req.body?.input;
  return Array.isArray(input) ? input : [];
}

/** Items the model produced (replayed as history): assistant messages, calls, reasoning. */
function isModelItem(it: Item): boolean {
  if (it.type === "message") return it.role === "assistant";
  return it.type === "reasoning" || (typeof it.type === "string" && it.type.endsWith("_call"));
}

/** Earlier model replies in the request: runs of consecutive model items (text and calls of one reply are adjacent). */
export function modelReplies(req: ScriptedRequest): number {
  let runs = 0;
  let inRun = false;
  for (const it of inputItems(req)) {
    const model = isModelItem(it);
    if (model && !inRun) runs++;
    inRun = model;
  }
  return runs;
}

/** Text of a message's content (input_text / output_text parts, or a plain string). */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((p: any) => (typeof p?.text === "string" ? p.text : ""))
    .filter((s) => s !== "")
    .join("\n");
}

/** The text of each message item with this role, in order ("developer", "user", "assistant"). */
export function messageTexts(req: ScriptedRequest, role: string): string[] {
  return inputItems(req)
    .filter((it) => it.type === "message" && it.role === role)
    .map((it) => contentText(it.content));
}

/** `role: text` for every message item, in order: where hook text landed relative to the prompt. */
export function messageTrail(req: ScriptedRequest): { role: string; text: string }[] {
  return inputItems(req)
    .filter((it) => it.type === "message")
    .map((it) => ({ role: it.role ?? "", text: contentText(it.content) }));
}

export function lastUserText(req: ScriptedRequest): string {
  return messageTexts(req, "user").at(-1) ?? "";
}

export interface FunctionOutput {
  call_id: string;
  text: string;
}

/** `function_call_output` items: the result of each earlier call, by call_id. */
export function functionOutputs(req: ScriptedRequest): FunctionOutput[] {
  return inputItems(req)
    .filter((it) => it.type === "function_call_output")
    .map((it) => ({ call_id: it.call_id ?? "", text: contentText(it.output) }));
}

/** Tools offered: plain functions by name, namespaced ones as `NAMESPACE__TOOL` (so MCP tools read `mcp__SERVER__TOOL`). */
export function offeredTools(req: ScriptedRequest): string[] {
  const tools: any[] = Array.isArray(req.body?.tools) ? req.body.tools : [];
  return tools.flatMap((t) => {
    if (t?.type === "namespace" && Array.isArray(t.tools)) return t.tools.map((x: any) => `${t.name}__${x?.name}`);
    return [typeof t?.name === "string" ? t.name : String(t?.type)];
  });
}

// ---- answering ----

/** `mcp__SERVER__TOOL` → namespace `mcp__SERVER`, name `TOOL`; other names stay plain. */
export function splitToolName(full: string): { name: string; namespace?: string } {
  if (!full.startsWith("mcp__")) return { name: full };
  const rest = full.slice("mcp__".length);
  const cut = rest.indexOf("__");
  if (cut <= 0) return { name: full };
  return { namespace: `mcp__${rest.slice(0, cut)}`, name: rest.slice(cut + 2) };
}

export function outputItems(step: Step, seq: number): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  if (step.text !== undefined && step.text !== "") {
    items.push({
      type: "message",
      role: "assistant",
      id: `msg_e2e_${seq}`,
      status: "completed",
      content: [{ type: "output_text", text: step.text, annotations: [] }],
    });
  }
  (step.tools ?? []).forEach((call, i) => {
    items.push({
      type: "function_call",
      id: `fc_e2e_${seq}_${i}`,
      call_id: call.id ?? `call_e2e_${seq}_${i}`,
      ...splitToolName(call.name),
      arguments: JSON.stringify(call.input ?? {}),
    });
  });
  return items;
}

function sendResponse(res: ServerResponse, req: ScriptedRequest, step: Step): void {
  const items = outputItems(step, req.seq);
  const id = `resp_e2e_${req.seq}`;
  if (req.body?.stream !== true) {
    sendJson(res, 200, { id, object: "response", status: "completed", output: items, usage: USAGE });
    return;
  }
  const send = startSse(res);
  send({ type: "response.created", response: { id, object: "response", status: "in_progress", output: [] } });
  items.forEach((item, output_index) => send({ type: "response.output_item.done", output_index, item }));
  send({ type: "response.completed", response: { id, object: "response", status: "completed", output: items, usage: USAGE } });
  res.end();
}

const USAGE = {
  input_tokens: 10,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 5,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 15,
};
