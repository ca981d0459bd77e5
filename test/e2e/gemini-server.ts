// A scripted Gemini API (generativelanguage v1beta) for the real Gemini CLI (see
// test/e2e/NOTES.md, "Codex CLI and Gemini CLI"). Gemini CLI 0.61.0 with GOOGLE_GEMINI_BASE_URL
// and an API key sends turns as `POST /v1beta/models/MODEL:streamGenerateContent?alt=sse` and
// reads one SSE `data:` event per chunk; a reply here is one chunk holding the whole step.
// Its helpers (loop detection after many turns, session summaries for `--list-sessions`) use
// `POST …:generateContent`, non-streaming, often with a JSON schema: those are "side" requests,
// answered with the smallest value that fits the schema.
//
// A step becomes one model content: its text a `text` part, each tool a `functionCall` part
// (`{name, args}`; an `id` only when the step gives one). Results come back in the next request
// as `functionResponse` parts of a user content.
import { sampleOf, type Step } from "./model-server.ts";
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

export type GeminiServer = ScriptedServer;

export function startGeminiServer(opts: ScriptedServerOptions = {}): Promise<GeminiServer> {
  return startScriptedServer(GEMINI, opts);
}

const MODEL_PATH = /^\/v1beta\/models\/([^/:]+):(streamGenerateContent|generateContent|countTokens)$/;

const GEMINI: Protocol = {
  name: "gemini-server",
  classify(req) {
    const m = req.method === "POST" ? MODEL_PATH.exec(req.path) : null;
    if (!m) return "other";
    return m[2] === "streamGenerateContent" ? "turn" : "side";
  },
  turns: (req) => contents(req).filter((c) => c.role === "model").length,
  lastUserText,
  answerTurn: (res, req, step) => {
    const send = startSse(res);
    send(candidate(req, partsOf(step)));
    res.end();
  },
  answerSide(res, req) {
    if (req.path.endsWith(":countTokens")) {
      sendJson(res, 200, { totalTokens: Math.max(1, Math.ceil(JSON.stringify(req.body ?? "").length / 4)) });
      return;
    }
    sendJson(res, 200, candidate(req, [{ text: sideAnswer(req.body) }]));
  },
  errorBody: (status, message) => ({ error: { code: status, message, status: status === 404 ? "NOT_FOUND" : "INTERNAL" } }),
};

/** The model a request names in its path (`-m` of the run, or a helper's own model). */
export function modelOf(req: ScriptedRequest): string {
  return MODEL_PATH.exec(req.path)?.[1] ?? "";
}

// ---- reading a request ----

export interface Part {
  text?: string;
  functionCall?: { name: string; args?: Record<string, unknown>; id?: string };
  functionResponse?: { name: string; response?: any; id?: string };
  thoughtSignature?: string;
}

export interface Content {
  role: string;
  parts: Part[];
}

export function contents(req: ScriptedRequest): Content[] {
  const list = req.body?.contents;
  return Array.isArray(list) ? list.map((c: any) => ({ role: String(c?.role ?? ""), parts: Array.isArray(c?.parts) ? c.parts : [] })) : [];
}

/** The text parts of the last user content (prompt, hook context, …), one entry per part. */
export function lastUserParts(req: ScriptedRequest): string[] {
  const user = contents(req).filter((c) => c.role === "user" && c.parts.some((p) => typeof p.text === "string"));
  return (user.at(-1)?.parts ?? []).filter((p) => typeof p.text === "string").map((p) => p.text!);
}

export function lastUserText(req: ScriptedRequest): string {
  return lastUserParts(req).join("\n");
}

/** Every text part of every content, in order (where an earlier conversation shows up). */
export function allTexts(req: ScriptedRequest): { role: string; text: string }[] {
  return contents(req).flatMap((c) => c.parts.filter((p) => typeof p.text === "string").map((p) => ({ role: c.role, text: p.text! })));
}

export interface FunctionResponse {
  name: string;
  id: string;
  /** `response.output` (success) or `response.error`, as text. */
  output: string;
  error: boolean;
}

export function functionResponses(req: ScriptedRequest): FunctionResponse[] {
  return contents(req).flatMap((c) =>
    c.parts
      .filter((p) => p.functionResponse)
      .map((p) => {
        const r = p.functionResponse!.response ?? {};
        const error = r.error !== undefined;
        const value = error ? r.error : r.output;
        return {
          name: p.functionResponse!.name,
          id: p.functionResponse!.id ?? "",
          output: typeof value === "string" ? value : JSON.stringify(value),
          error,
        };
      }),
  );
}

/** Names of the function declarations offered (built-in tools and MCP tools alike). */
export function offeredTools(req: ScriptedRequest): string[] {
  const tools: any[] = Array.isArray(req.body?.tools) ? req.body.tools : [];
  return tools.flatMap((t) => (Array.isArray(t?.functionDeclarations) ? t.functionDeclarations.map((f: any) => String(f?.name)) : []));
}

// ---- answering ----

export function partsOf(step: Step): Part[] {
  const parts: Part[] = [];
  if (step.text !== undefined && step.text !== "") parts.push({ text: step.text });
  for (const call of step.tools ?? []) {
    parts.push({ functionCall: { name: call.name, args: call.input ?? {}, ...(call.id === undefined ? {} : { id: call.id }) } });
  }
  // The API never sends an empty reply; an empty text part keeps the CLI's parser happy.
  if (parts.length === 0) parts.push({ text: "" });
  return parts;
}

function candidate(req: ScriptedRequest, parts: Part[]) {
  return {
    candidates: [{ content: { role: "model", parts }, finishReason: "STOP", index: 0 }],
    usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
    modelVersion: modelOf(req) || "gemini-e2e-scripted",
  };
}

// Helpers ask for JSON through generationConfig.responseJsonSchema (JSON Schema) or responseSchema
// (OpenAPI, with upper-case type names).
function sideAnswer(body: any): string {
  const config = body?.generationConfig ?? {};
  const schema = config.responseJsonSchema ?? config.responseSchema;
  if (schema && typeof schema === "object") {
    const lower = JSON.parse(JSON.stringify(schema).replace(/"type":"([A-Z]+)"/g, (_m, t: string) => `"type":"${t.toLowerCase()}"`));
    return JSON.stringify(sampleOf(lower));
  }
  return "e2e side answer";
}
