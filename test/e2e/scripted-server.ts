// The vendor-neutral half of a scripted model server: listen on 127.0.0.1 (and, for a test run
// inside a network namespace, on a unix socket too), record every request, pick a scripted step
// per turn request by route or by content, report unknown endpoints and turns past the script.
// A `Protocol` (openai-server.ts, gemini-server.ts) knows its API's paths and wire shapes.
// Same structure as model-server.ts (Claude Code's Messages API), which predates this split.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Step } from "./model-server.ts";

export { callTool, callTools, reply, type Step, type ToolCall } from "./model-server.ts";

export type RequestKind = "turn" | "side" | "other";

export interface ScriptedRequest {
  seq: number;
  /** Date.now() when the body was complete. */
  time: number;
  method: string;
  /** Path without the `/s/<route>` prefix and without the query. */
  path: string;
  url: string;
  /** The `<route>` of a `/s/<route>/…` base URL; "" for the bare server URL. */
  route: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body parses, else the raw text ("" when empty). */
  body: any;
  kind: RequestKind;
  /** What was answered to a turn request. */
  answered?: Step;
}

export interface TurnInfo {
  /** The protocol's count of model replies already in the request (0 for a fresh prompt). */
  turn: number;
  /** How many turn requests this script answered before this one. */
  call: number;
}

/** A list is indexed by `turn`; a function decides freely. undefined counts as running out of script. */
export type Script = Step[] | ((req: ScriptedRequest, info: TurnInfo) => Step | undefined);

export interface Protocol {
  /** Shown in warnings, e.g. "openai-server". */
  name: string;
  classify(req: ScriptedRequest): RequestKind;
  /** Model replies already in a turn request: the index into a list script. */
  turns(req: ScriptedRequest): number;
  /** The text a reader needs to recognise a request in an error message. */
  lastUserText(req: ScriptedRequest): string;
  answerTurn(res: ServerResponse, req: ScriptedRequest, step: Step): void;
  answerSide(res: ServerResponse, req: ScriptedRequest): void;
  /** JSON body for a 404 or a 500 in this API's error shape. */
  errorBody(status: number, message: string): unknown;
}

export interface ScriptedServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** The unix socket also served, when asked for (see `ScriptedServerOptions.unixSocket`). */
  readonly unixSocket: string | undefined;
  /** Every request, in arrival order. */
  readonly requests: readonly ScriptedRequest[];
  /** Requests to paths the protocol does not know (also printed as warnings). */
  readonly unknown: readonly ScriptedRequest[];
  /** Turn requests that found no script step: a test that sees any has a wrong script. */
  readonly unscripted: readonly ScriptedRequest[];
  /** `url/s/ROUTE`: requests under it carry `route` and use `script(route)`. */
  baseUrl(route: string): string;
  script(route: string, script: Script): void;
  /** Content-based routing, checked before path routes, first match wins. */
  route(match: (req: ScriptedRequest) => boolean, script: Script): void;
  findRequests(pred: (req: ScriptedRequest) => boolean): ScriptedRequest[];
  /** Resolves with the first request (past or future) matching pred with seq > after. */
  waitForRequest(pred: (req: ScriptedRequest) => boolean, deadlineMs: number, opts?: { after?: number }): Promise<ScriptedRequest>;
  /** The seq of the newest request so far (0 before any). */
  mark(): number;
  close(): Promise<void>;
}

export interface ScriptedServerOptions {
  /** Script for the bare URL (route ""). */
  script?: Script;
  /** Where unknown paths and unscripted turns are reported; default stderr. */
  warn?: (line: string) => void;
  /** Also serve on this unix socket path (reachable from another network namespace). */
  unixSocket?: string;
}

export async function startScriptedServer(protocol: Protocol, opts: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const warn = opts.warn ?? ((line: string) => process.stderr.write(`[${protocol.name}] ${line}\n`));
  const requests: ScriptedRequest[] = [];
  const unknown: ScriptedRequest[] = [];
  const unscripted: ScriptedRequest[] = [];
  const scripts = new Map<string, Script>();
  const calls = new Map<Script, number>();
  const matchers: { match: (req: ScriptedRequest) => boolean; script: Script }[] = [];
  const waiters = new Set<(req: ScriptedRequest) => void>();
  if (opts.script) scripts.set("", opts.script);

  function pickStep(req: ScriptedRequest): Step {
    const script = matchers.find((m) => m.match(req))?.script ?? scripts.get(req.route);
    const info: TurnInfo = { turn: protocol.turns(req), call: 0 };
    if (script) {
      info.call = calls.get(script) ?? 0;
      calls.set(script, info.call + 1);
    }
    const step = script === undefined ? undefined : Array.isArray(script) ? script[info.turn] : script(req, info);
    if (step) return step;
    unscripted.push(req);
    const why = script === undefined ? `no script for route "${req.route}"` : `script has no step for turn ${info.turn}`;
    warn(`UNSCRIPTED turn request #${req.seq} (${why}); last user text: ${JSON.stringify(protocol.lastUserText(req).slice(0, 200))}`);
    return { text: `[${protocol.name}: ${why}]` };
  }

  function respond(req: ScriptedRequest, res: ServerResponse): void {
    if (req.kind === "turn") {
      const step = pickStep(req);
      req.answered = step;
      protocol.answerTurn(res, req, step);
      return;
    }
    if (req.kind === "side") {
      protocol.answerSide(res, req);
      return;
    }
    unknown.push(req);
    warn(`UNKNOWN endpoint #${req.seq}: ${req.method} ${req.url} (body ${JSON.stringify(req.body).slice(0, 300)})`);
    sendJson(res, 404, protocol.errorBody(404, `${protocol.name} does not implement ${req.method} ${req.path}`));
  }

  const handle = (httpReq: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    httpReq.on("data", (c: Buffer) => chunks.push(c));
    httpReq.on("end", () => {
      const url = httpReq.url ?? "/";
      const { route, path } = splitUrl(url);
      const req: ScriptedRequest = {
        seq: requests.length + 1,
        time: Date.now(),
        method: httpReq.method ?? "GET",
        path,
        url,
        route,
        headers: httpReq.headers,
        body: parseJson(Buffer.concat(chunks).toString("utf8")),
        kind: "other",
      };
      req.kind = protocol.classify(req);
      requests.push(req);
      try {
        respond(req, res);
      } catch (err) {
        warn(`answering #${req.seq} ${req.method} ${url} failed: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent) sendJson(res, 500, protocol.errorBody(500, `${protocol.name} crashed; see test output`));
        else res.end();
      }
      for (const w of [...waiters]) w(req);
    });
  };

  const servers: Server[] = [createServer(handle)];
  await listen(servers[0]!, (s, done) => s.listen(0, "127.0.0.1", done));
  const port = (servers[0]!.address() as AddressInfo).port;
  if (opts.unixSocket !== undefined) {
    const extra = createServer(handle);
    servers.push(extra);
    await listen(extra, (s, done) => s.listen(opts.unixSocket, done));
  }
  const url = `http://127.0.0.1:${port}`;
  let closed: Promise<void> | undefined;

  return {
    url,
    port,
    unixSocket: opts.unixSocket,
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
      const ok = (r: ScriptedRequest) => r.seq > after && pred(r);
      const seen = requests.find(ok);
      if (seen) return Promise.resolve(seen);
      return new Promise<ScriptedRequest>((resolve, reject) => {
        const onReq = (r: ScriptedRequest) => {
          if (!ok(r)) return;
          done();
          resolve(r);
        };
        const timer = setTimeout(() => {
          done();
          const seen = requests.map(
            (r) => `  #${r.seq} ${r.kind} ${r.method} ${r.url} ${JSON.stringify(protocol.lastUserText(r).slice(-120))}`,
          );
          reject(new Error(`no matching request within ${deadlineMs} ms (after #${after}); seen:\n${seen.join("\n") || "  (none)"}`));
        }, deadlineMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(onReq);
        };
        waiters.add(onReq);
      });
    },
    close() {
      closed ??= Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              // The CLIs keep connections alive; without this close() waits for them.
              s.closeAllConnections();
            }),
        ),
      ).then(() => undefined);
      return closed;
    },
  };
}

function listen(server: Server, start: (s: Server, done: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    start(server, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function splitUrl(url: string): { route: string; path: string } {
  const pathOnly = url.split("?")[0] ?? "/";
  const m = /^\/s\/([^/]+)(\/.*)?$/.exec(pathOnly);
  if (m) return { route: decodeURIComponent(m[1] ?? ""), path: m[2] ?? "/" };
  return { route: "", path: pathOnly };
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

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Starts an SSE answer; each call of the returned function writes one `data:` event. */
export function startSse(res: ServerResponse): (data: unknown) => void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  return (data) => void res.write(`data: ${JSON.stringify(data)}\n\n`);
}
