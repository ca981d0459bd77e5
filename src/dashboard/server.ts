// The dashboard's HTTP server: one page, its script and style from memory, a JSON snapshot, a
// Server-Sent Events stream of snapshots, and (only with --admin) two settings actions.
//
// Who may talk to it: it listens on 127.0.0.1 only, and every request must
//   - carry the run's random token (`?token=`, compared in constant time), EventSource included;
//   - name this server in Host (127.0.0.1:PORT or localhost:PORT), so a DNS-rebound name that
//     resolves to 127.0.0.1 gets nothing even if it learned the token;
//   - not come from another site (Origin and Sec-Fetch-Site, where the browser sends them).
// A POST also needs the token in the X-Bridge-Token header (a header no form or <img> can send)
// and Content-Type: application/json. No Access-Control-Allow-* header is ever sent.
import { createHash, timingSafeEqual } from "node:crypto";
// The dashboard is a bundle of its own (src/runtime/embedded.ts): its imports load only when it runs.
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import appJs from "./page.js" with { type: "text" };
import pageCss from "./page.css" with { type: "text" };
import pageHtml from "./page.html" with { type: "text" };
import { createSnapshotter } from "./data.ts";
import type { Snapshotter } from "./data.ts";
import { watchRoot } from "./watch.ts";
import { BridgeError, describeError } from "../lib/errors.ts";
import type { SettingsUpdate } from "../settings/file.ts";
import { describeUpdate, setRoleMode, turnOff, turnOn } from "../settings/ops.ts";

export interface DashboardServerOptions {
  root: string;
  admin: boolean;
  /** 0 picks a free port. */
  port: number;
  token: string;
  heartbeatMs?: number;
  pollMs?: number;
  /**
   * Where the rooms come from when not the file store under `root` (Redis: ./store-data.ts), and
   * how change is noticed there; the settings stay in `root` either way.
   */
  source?: { snapshotter: Snapshotter; watch(changed: () => void, pollMs: number): { close(): void } };
  /** Diagnostics (stderr): a snapshot that failed, a client dropped. */
  warn(line: string): void;
}

export interface DashboardServer {
  port: number;
  url: string;
  /** Open event streams. */
  clients(): number;
  /** Folders under watch (0 while no page is open). */
  watched(): number;
  close(): Promise<void>;
}

const HEADERS: Record<string, string> = {
  // The page runs only its own script and style; data: is for the empty favicon (no /favicon.ico request).
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

const MAX_POST_BYTES = 8 * 1024;
// A client this far behind (a stalled tab) is dropped rather than buffered without bound; it reconnects.
const MAX_BACKLOG_BYTES = 32 * 1024 * 1024;

export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(options.token)) throw new Error("dashboard token must be at least 16 URL-safe characters");
  const { root, admin } = options;
  const digest = sha256(options.token);
  const tokenMatches = (given: unknown): boolean => typeof given === "string" && timingSafeEqual(sha256(given), digest);
  const snapshots = options.source?.snapshotter ?? createSnapshotter(root, { admin });
  const clients = new Set<ServerResponse>();
  let watch: { size?(): number; close(): void } | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let last = "";
  let port = 0;

  const current = async (): Promise<string> => {
    try {
      return JSON.stringify(await snapshots.snapshot());
    } catch (err) {
      options.warn(`snapshot failed (showing the previous one): ${describeError(err)}`);
      return last;
    }
  };

  // A snapshot may take a while (the store's round trips): one at a time, and one more after it
  // when asked meanwhile, so an older snapshot never overwrites a newer one.
  let publishing = false;
  let again = false;
  const waiting = new Set<ServerResponse>();
  const publish = (only?: ServerResponse): void => {
    if (only) waiting.add(only);
    if (publishing) {
      again = true;
      return;
    }
    publishing = true;
    void (async () => {
      try {
        do {
          again = false;
          const onlies = [...waiting];
          waiting.clear();
          const next = await current();
          const changed = next !== last && next !== "";
          if (changed) last = next;
          if (last === "") continue; // no snapshot could be made yet; the warning said why
          const targets = changed ? [...clients] : onlies.filter((res) => clients.has(res));
          for (const res of targets) send(res, `event: snapshot\ndata: ${last}\n\n`);
        } while (again);
      } finally {
        publishing = false;
      }
    })();
  };

  const send = (res: ServerResponse, text: string): void => {
    if (res.writableLength > MAX_BACKLOG_BYTES) {
      options.warn("dropped a page that stopped reading its event stream; it reconnects when it can");
      res.destroy();
      return;
    }
    res.write(text);
  };

  const joinStream = (res: ServerResponse): void => {
    res.writeHead(200, { ...HEADERS, "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive" });
    res.write("retry: 2000\n\n");
    clients.add(res);
    if (clients.size === 1) {
      // Watch only while someone looks: with no page open the server touches nothing.
      watch = options.source
        ? options.source.watch(() => publish(), options.pollMs ?? 2000)
        : watchRoot(root, () => publish(), { ...(options.pollMs !== undefined && { pollMs: options.pollMs }) });
      heartbeat = setInterval(() => {
        for (const c of clients) send(c, ": ping\n\n");
      }, options.heartbeatMs ?? 15_000);
    }
    publish(res);
    // The response's close, not the request's: it fires when the page goes away (or we end it).
    res.on("close", () => {
      clients.delete(res);
      if (clients.size === 0) stopWatching();
    });
  };

  const stopWatching = (): void => {
    watch?.close();
    watch = undefined;
    clearInterval(heartbeat);
    heartbeat = undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
    const origins = hosts.map((h) => `http://${h}`);
    const host = req.headers.host?.toLowerCase();
    if (host === undefined || !hosts.includes(host))
      return refuse(res, 403, `forbidden: the Host header must be 127.0.0.1:${port} or localhost:${port}`);
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin" && site !== "none") return refuse(res, 403, "forbidden: a request from another site");
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.includes(origin)) return refuse(res, 403, "forbidden: a request from another origin");
    const url = new URL(req.url ?? "/", `http://${hosts[0]}`);
    if (!tokenMatches(url.searchParams.get("token"))) {
      return refuse(
        res,
        403,
        "forbidden: missing or wrong token; open the URL printed by `session-bridge dashboard` (each run has a new token)",
      );
    }
    const route = ROUTES[url.pathname];
    if (route === undefined) return refuse(res, 404, `not found: ${url.pathname}`);
    if (req.method !== route.method) {
      res.writeHead(405, { ...HEADERS, "Content-Type": "text/plain; charset=utf-8", Allow: route.method });
      res.end(`method ${req.method} not allowed on ${url.pathname} (use ${route.method})\n`);
      return;
    }
    switch (route.kind) {
      case "page":
        return reply(res, 200, "text/html; charset=utf-8", pageHtml.replaceAll("__TOKEN__", options.token));
      case "script":
        return reply(res, 200, "text/javascript; charset=utf-8", appJs);
      case "style":
        return reply(res, 200, "text/css; charset=utf-8", pageCss);
      case "snapshot": {
        const body = await current();
        return body === ""
          ? refuse(res, 500, "the snapshot failed; see the dashboard's stderr")
          : reply(res, 200, "application/json; charset=utf-8", body);
      }
      case "events":
        return joinStream(res);
      case "automation":
      case "role-mode":
        return adminAction(req, res, route.kind);
    }
  };

  const adminAction = async (req: IncomingMessage, res: ServerResponse, kind: "automation" | "role-mode"): Promise<void> => {
    if (!admin) {
      return replyJson(res, 403, {
        error: {
          code: "E_ADMIN_ONLY",
          message:
            "this dashboard is read-only; to change settings, restart it from your own shell with `session-bridge dashboard --admin`",
        },
      });
    }
    if (!tokenMatches(req.headers["x-bridge-token"])) {
      return replyJson(res, 403, { error: { code: "E_USAGE", message: "a change needs the token in the X-Bridge-Token header as well" } });
    }
    if (!/^application\/json\s*(;|$)/i.test(req.headers["content-type"] ?? "")) {
      return replyJson(res, 415, { error: { code: "E_USAGE", message: "a change must be sent as Content-Type: application/json" } });
    }
    const text = await readBody(req, MAX_POST_BYTES);
    if (text === undefined)
      return replyJson(res, 413, { error: { code: "E_USAGE", message: `request body over ${MAX_POST_BYTES} bytes` } });
    let update: SettingsUpdate;
    try {
      const body = parseBody(text);
      update = kind === "automation" ? applyAutomation(root, body) : applyRoleMode(root, body);
    } catch (err) {
      const code = err instanceof BridgeError ? err.code : "E_IO";
      const status = code === "E_LOCKED" ? 409 : code === "E_IO" ? 500 : 400;
      return replyJson(res, status, { error: { code, message: err instanceof Error ? err.message : String(err) } });
    }
    // The page gets the new state from its event stream (the settings file changed); push it now too.
    if (clients.size > 0) publish();
    return replyJson(res, 200, { changes: update.changes, text: describeUpdate(update) });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.warn(`request failed: ${describeError(err)}`);
      if (!res.headersSent) refuse(res, 500, "internal error; see the dashboard's stderr");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // Loopback only, and no option to change it: the page shows private messages.
    server.listen({ host: "127.0.0.1", port: options.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  port = typeof address === "object" && address !== null ? address.port : options.port;
  return {
    port,
    url: `http://127.0.0.1:${port}/?token=${options.token}`,
    clients: () => clients.size,
    watched: () => watch?.size?.() ?? 0,
    async close() {
      stopWatching();
      for (const res of clients) res.end();
      clients.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Event streams and idle keep-alive sockets would hold close() open forever.
      server.closeAllConnections();
      await closed;
    },
  };
}

type RouteKind = "page" | "script" | "style" | "snapshot" | "events" | "automation" | "role-mode";
const ROUTES: Record<string, { method: "GET" | "POST"; kind: RouteKind }> = {
  "/": { method: "GET", kind: "page" },
  "/app.js": { method: "GET", kind: "script" },
  "/app.css": { method: "GET", kind: "style" },
  "/api/snapshot": { method: "GET", kind: "snapshot" },
  "/api/events": { method: "GET", kind: "events" },
  "/api/automation": { method: "POST", kind: "automation" },
  "/api/role-mode": { method: "POST", kind: "role-mode" },
};

/** `{"enabled": true}` is `spawner on`, `{"enabled": false}` is `spawner off`. */
function applyAutomation(root: string, body: Record<string, unknown>): SettingsUpdate {
  onlyKeys(body, ["enabled"]);
  if (typeof body.enabled !== "boolean")
    throw new BridgeError("E_USAGE", `"enabled" must be true or false (got ${JSON.stringify(body.enabled)})`);
  return body.enabled ? turnOn(root) : turnOff(root);
}

/** `{"project", "role", "mode": "auto"|"manual"}` is `spawner set PROJECT ROLE mode=…`. */
function applyRoleMode(root: string, body: Record<string, unknown>): SettingsUpdate {
  onlyKeys(body, ["project", "role", "mode"]);
  const { project, role, mode } = body;
  if (typeof project !== "string" || typeof role !== "string")
    throw new BridgeError("E_USAGE", `"project" and "role" must be names (got ${JSON.stringify(project)}, ${JSON.stringify(role)})`);
  if (mode !== "auto" && mode !== "manual")
    throw new BridgeError("E_USAGE", `"mode" must be "auto" or "manual" (got ${JSON.stringify(mode)})`);
  return setRoleMode(root, project, role, mode);
}

function parseBody(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BridgeError("E_USAGE", `the request body is not JSON (${(err as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new BridgeError("E_USAGE", "the request body must be a JSON object");
  return value as Record<string, unknown>;
}

function onlyKeys(body: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new BridgeError("E_USAGE", `unknown field "${key}" (known: ${allowed.join(", ")})`);
  }
}

/** The body as text, or undefined past `max` bytes (the rest is read and dropped, so the answer still arrives). */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) resolve(undefined);
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...HEADERS, "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function replyJson(res: ServerResponse, status: number, value: unknown): void {
  reply(res, status, "application/json; charset=utf-8", JSON.stringify(value) + "\n");
}

function refuse(res: ServerResponse, status: number, text: string): void {
  reply(res, status, "text/plain; charset=utf-8", text + "\n");
}
