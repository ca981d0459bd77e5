// A scripted Anthropic Messages API on 127.0.0.1 so the real Claude Code runs offline.
// Claude Code 2.1.328 calls only `POST /v1/messages?beta=true` (always streaming) in the
// flows we drive; everything else is answered sensibly and reported loudly (see NOTES.md).
//
// Several claude processes share one server: give each its own base URL with
// `server.baseUrl("alice")` (Claude Code keeps the path prefix: `/s/alice/v1/messages`)
// and its own script with `server.script("alice", …)`, or route by content with `server.route`.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { assistantTurns, describeRequests, lastUserText } from "./inspect.ts";

export {
  assistantTurns,
  byCwd,
  lastUserText,
  offeredTools,
  requestText,
  systemMessages,
  textOf,
  toolResults,
  type ToolResult,
} from "./inspect.ts";

export interface ToolCall {
  name: string;
  input?: Record<string, unknown>;
  id?: string;
}

/** One scripted assistant reply: optional text, then zero or more tool_use blocks. */
export interface Step {
  text?: string;
  tools?: ToolCall[];
}

export const reply = (text: string): Step => ({ text });
export const callTool = (name: string, input: Record<string, unknown> = {}, id?: string): Step => ({
  tools: [id === undefined ? { name, input } : { name, input, id }],
});
export const callTools = (calls: ToolCall[], text?: string): Step => (text === undefined ? { tools: calls } : { text, tools: calls });

export interface TurnInfo {
  /** Assistant messages already in the request: 0 for a fresh prompt, +1 per earlier reply. */
  turn: number;
  /** How many turn requests this route answered before this one. */
  call: number;
}

/**
 * A list is indexed by `turn` (counting assistant messages is stable across retries of the
 * same request); a function decides freely. Returning undefined counts as running out of script.
 */
export type Script = Step[] | ((req: ModelRequest, info: TurnInfo) => Step | undefined);

export type RequestKind = "turn" | "side" | "count_tokens" | "other";

export interface ModelRequest {
  seq: number;
  /** Date.now() when the body was complete. */
  time: number;
  method: string;
  /** Path without the `/s/<route>` prefix and without the query, e.g. `/v1/messages`. */
  path: string;
  url: string;
  /** The `<route>` of a `/s/<route>/…` base URL; "" for the bare server URL. */
  route: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body parses, else the raw text ("" when empty). */
  body: any;
  kind: RequestKind;
  /** What was answered to a turn request, for debugging and assertions. */
  answered?: Step;
}

export interface ModelServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Every request, in arrival order. */
  readonly requests: readonly ModelRequest[];
  /** Requests to paths this server does not know (also printed to stderr). */
  readonly unknown: readonly ModelRequest[];
  /** Turn requests that found no script step: a test that sees any has a wrong script. */
  readonly unscripted: readonly ModelRequest[];
  /** Base URL for one claude process: its requests carry `route` and use `script(route)`. */
  baseUrl(route: string): string;
  /** Sets the script for a route ("" = the bare URL). */
  script(route: string, script: Script): void;
  /** Content-based routing, checked before path routes, first match wins. */
  route(match: (req: ModelRequest) => boolean, script: Script): void;
  findRequests(pred: (req: ModelRequest) => boolean): ModelRequest[];
  /** Resolves with the first logged request (past or future) matching pred with seq > after. */
  waitForRequest(pred: (req: ModelRequest) => boolean, deadlineMs: number, opts?: { after?: number }): Promise<ModelRequest>;
  /** The seq of the newest request so far (0 before any): pass as `after` to wait for new ones. */
  mark(): number;
  close(): Promise<void>;
}

export interface ModelServerOptions {
  /** Script for the bare URL (route ""). */
  script?: Script;
  /** Where unknown paths and unscripted turns are reported; default stderr. */
  warn?: (line: string) => void;
}

const MODEL = "claude-e2e-scripted";

export async function startModelServer(opts: ModelServerOptions = {}): Promise<ModelServer> {
  const warn = opts.warn ?? ((line: string) => process.stderr.write(`[model-server] ${line}\n`));
  const requests: ModelRequest[] = [];
  const unknown: ModelRequest[] = [];
  const unscripted: ModelRequest[] = [];
  const scripts = new Map<string, Script>();
  const calls = new Map<Script, number>();
  const matchers: { match: (req: ModelRequest) => boolean; script: Script }[] = [];
  const waiters = new Set<(req: ModelRequest) => void>();
  if (opts.script) scripts.set("", opts.script);

  function pickScript(req: ModelRequest): Script | undefined {
    for (const m of matchers) if (m.match(req)) return m.script;
    return scripts.get(req.route);
  }

  function answerTurn(req: ModelRequest): Step {
    const script = pickScript(req);
    const info: TurnInfo = { turn: assistantTurns(req.body), call: 0 };
    if (script) {
      info.call = calls.get(script) ?? 0;
      calls.set(script, info.call + 1);
    }
    const step = script === undefined ? undefined : Array.isArray(script) ? script[info.turn] : script(req, info);
    if (step) return step;
    unscripted.push(req);
    const why = script === undefined ? `no script for route "${req.route}"` : `script has no step for turn ${info.turn}`;
    warn(`UNSCRIPTED turn request #${req.seq} (${why}); last user text: ${JSON.stringify(lastUserText(req).slice(0, 200))}`);
    return { text: `[model-server: ${why}]` };
  }

  const server = createServer((httpReq, res) => {
    const chunks: Buffer[] = [];
    httpReq.on("data", (c: Buffer) => chunks.push(c));
    httpReq.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const url = httpReq.url ?? "/";
      const { route, path } = splitUrl(url);
      const req: ModelRequest = {
        seq: requests.length + 1,
        time: Date.now(),
        method: httpReq.method ?? "GET",
        path,
        url,
        route,
        headers: httpReq.headers,
        body: parseJson(raw),
        kind: "other",
      };
      req.kind = classify(req);
      requests.push(req);
      try {
        respond(req, res);
      } catch (err) {
        warn(`answering #${req.seq} ${req.method} ${url} failed: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent) sendJson(res, 500, apiError("api_error", "model-server crashed; see test output"));
        else res.end();
      }
      for (const w of [...waiters]) w(req);
    });
  });

  function respond(req: ModelRequest, res: ServerResponse): void {
    switch (req.kind) {
      case "turn": {
        const step = answerTurn(req);
        req.answered = step;
        sendMessage(res, req, step);
        return;
      }
      case "side":
        sendMessage(res, req, { text: sideAnswer(req.body) });
        return;
      case "count_tokens":
        sendJson(res, 200, { input_tokens: Math.max(1, Math.ceil(JSON.stringify(req.body ?? "").length / 4)) });
        return;
      case "other":
        break;
    }
    // Connectivity probes: a HEAD or GET of the root or of the API base just needs a 200.
    if (req.method === "HEAD" || (req.method === "GET" && (req.path === "/" || req.path === "/v1"))) {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(req.method === "HEAD" ? undefined : "ok");
      return;
    }
    if (req.method === "GET" && req.path === "/v1/models") {
      sendJson(res, 200, {
        data: [{ type: "model", id: MODEL, display_name: "Scripted e2e model", created_at: "2025-01-01T00:00:00Z" }],
        has_more: false,
        first_id: MODEL,
        last_id: MODEL,
      });
      return;
    }
    unknown.push(req);
    warn(`UNKNOWN endpoint #${req.seq}: ${req.method} ${req.url} (body ${JSON.stringify(req.body).slice(0, 300)})`);
    sendJson(res, 404, apiError("not_found_error", `model-server does not implement ${req.method} ${req.path}`));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  let closed: Promise<void> | undefined;

  return {
    url,
    port,
    requests,
    unknown,
    unscripted,
    baseUrl: (route) => {
      if (!/^[A-Za-z0-9._-]+$/.test(route)) throw new Error(`route "${route}" must match [A-Za-z0-9._-]+ (it becomes a URL path segment)`);
      return `${url}/s/${route}`;
    },
    script: (route, script) => void scripts.set(route, script),
    route: (match, script) => void matchers.push({ match, script }),
    findRequests: (pred) => requests.filter(pred),
    mark: () => requests.length,
    waitForRequest(pred, deadlineMs, wopts = {}) {
      const after = wopts.after ?? 0;
      const ok = (r: ModelRequest) => r.seq > after && pred(r);
      const seen = requests.find(ok);
      if (seen) return Promise.resolve(seen);
      return new Promise<ModelRequest>((resolve, reject) => {
        const onReq = (r: ModelRequest) => {
          if (!ok(r)) return;
          done();
          resolve(r);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching model request within ${deadlineMs} ms (after #${after}); seen:\n${describeRequests(requests)}`));
        }, deadlineMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(onReq);
        };
        waiters.add(onReq);
      });
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Claude Code keeps connections alive; without this close() waits for them.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function splitUrl(url: string): { route: string; path: string } {
  const pathOnly = url.split("?")[0] ?? "/";
  const m = /^\/s\/([^/]+)(\/.*)?$/.exec(pathOnly);
  if (m) return { route: decodeURIComponent(m[1] ?? ""), path: m[2] ?? "/" };
  return { route: "", path: pathOnly };
}

function classify(req: ModelRequest): RequestKind {
  if (req.method !== "POST") return "other";
  if (req.path === "/v1/messages/count_tokens") return "count_tokens";
  if (req.path !== "/v1/messages") return "other";
  const tools = req.body?.tools;
  return Array.isArray(tools) && tools.length > 0 ? "turn" : "side";
}

function parseJson(raw: string): any {
  if (raw === "") return "";
  try {
    return JSON.parse(raw);
  } catch {
    // Not JSON (or truncated): keep the text so the test can see what arrived.
    return raw;
  }
}

// ---- answers ----

function apiError(type: string, message: string) {
  return { type: "error", error: { type, message } };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

interface ContentBlock {
  type: "text" | "tool_use";
  text?: string;
  id?: string;
  name?: string;
  input?: Record<string, unknown>;
}

function contentOf(step: Step, seq: number): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  if (step.text !== undefined && step.text !== "") blocks.push({ type: "text", text: step.text });
  (step.tools ?? []).forEach((call, i) => {
    blocks.push({ type: "tool_use", id: call.id ?? `toolu_e2e_${seq}_${i}`, name: call.name, input: call.input ?? {} });
  });
  // The API never sends an empty reply; an empty text block keeps Claude Code's parser happy.
  if (blocks.length === 0) blocks.push({ type: "text", text: "" });
  return blocks;
}

function sendMessage(res: ServerResponse, req: ModelRequest, step: Step): void {
  const content = contentOf(step, req.seq);
  const stopReason = content.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn";
  const id = `msg_e2e_${req.seq}`;
  const model = typeof req.body?.model === "string" ? req.body.model : MODEL;
  const usage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  if (req.body?.stream !== true) {
    sendJson(res, 200, { id, type: "message", role: "assistant", model, content, stop_reason: stopReason, stop_sequence: null, usage });
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const event = (name: string, data: Record<string, unknown>) =>
    res.write(`event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`);
  event("message_start", {
    message: {
      id,
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  });
  content.forEach((block, index) => {
    if (block.type === "text") {
      event("content_block_start", { index, content_block: { type: "text", text: "" } });
      if (block.text) event("content_block_delta", { index, delta: { type: "text_delta", text: block.text } });
    } else {
      event("content_block_start", { index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input ?? {}) } });
    }
    event("content_block_stop", { index });
  });
  event("message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } });
  event("message_stop", {});
  res.end();
}

// Side requests (titles, summaries) may ask for JSON through a json_schema output format;
// answer with the smallest value that fits the schema, else a short plain text.
function sideAnswer(body: any): string {
  const format = body?.output_config?.format ?? body?.output_format;
  if (format && typeof format === "object" && format.type === "json_schema" && format.schema) {
    return JSON.stringify(sampleOf(format.schema));
  }
  return "e2e side answer";
}

/** The smallest value that fits a JSON schema (also used by gemini-server.ts). */
export function sampleOf(schema: any): unknown {
  if (!schema || typeof schema !== "object") return null;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ("const" in schema) return schema.const;
  const alt = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alt) && alt.length > 0) return sampleOf(alt[0]);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) out[k] = sampleOf(v);
      return out;
    }
    case "array":
      return [];
    case "string":
      return "e2e";
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    default:
      return null;
  }
}
