// The stdio side of `session-bridge mcp`: newline-delimited JSON-RPC on stdin/stdout, like the
// SDK's StdioServerTransport, with one difference that the startup budget needs. Evaluating the
// SDK (zod schemas, protocol types) costs more than the whole budget for spawn → tools/list
// (BENCHMARKS.md: ≤ 1.35× `node -e 0`), so until a message needs the SDK this transport answers the
// handshake itself from plain data: initialize (with the SDK's own version negotiation, checked
// by test/mcp/mcp-wire.test.ts), notifications/initialized, ping, tools/list, prompts/list, and
// -32601 for the `server/discover` probe. The first other message (a tools/call, a prompts/get,
// anything unexpected) loads the SDK, which is then handed the recorded handshake (its answer
// suppressed: it was already given) and every message from then on, in arrival order.
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { describeError } from "../lib/errors.ts";
import { isRecord } from "../lib/fs.ts";

/** @modelcontextprotocol/sdk 1.x: LATEST_PROTOCOL_VERSION first, then SUPPORTED_PROTOCOL_VERSIONS. */
export const PROTOCOL_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"] as const;

/** What the SDK's Server answers to initialize: the client's version if supported, else the latest. */
export function negotiateVersion(requested: unknown): string {
  return PROTOCOL_VERSIONS.find((v) => v === requested) ?? PROTOCOL_VERSIONS[0];
}

export interface Handshake {
  /** The initialize result minus protocolVersion (capabilities, serverInfo, instructions). */
  server: Record<string, unknown>;
  /** Results for parameterless list methods answered before the SDK is loaded. */
  lists: Record<string, () => unknown>;
}

// The recorded initialize is replayed to the SDK under this id, and its answer dropped.
const REPLAY_ID = "session-bridge:replayed-initialize";
/** The longest message line read; longer ones are skipped (and answered, when their id can be found). */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;
/** How much of a skipped line's start and end is kept to find its request id. */
const EDGE_BYTES = 512;
// A request id where the line starts ({"jsonrpc":"2.0","id":…) or ends (…,"id":…} as the SDK's
// Client writes it). At the very end, one closing brace after the value makes it top-level.
const HEAD_ID = /^\s*\{\s*"jsonrpc"\s*:\s*"2\.0"\s*,\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.){0,200}")\s*,/;
const TAIL_ID = /[,{]\s*"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.){0,200}")\s*\}\s*$/;

type RpcMessage = Record<string, unknown>;

export class StdioWire implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** The current line's bytes so far (never more than MAX_LINE_BYTES in all). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** While a line over the limit is passed over: its first and (so far) last bytes. */
  private skipping: { head: Buffer; tail: Buffer } | undefined;
  private sdk = false;
  private queue: unknown[] = [];
  private initialize: RpcMessage | undefined;
  private initialized: RpcMessage | undefined;
  private parse: (value: unknown) => JSONRPCMessage = (value) => value as JSONRPCMessage;
  private readonly ondata = (chunk: Buffer): void => this.receive(chunk);
  private readonly onstdinError = (error: Error): void => this.onerror?.(error);

  constructor(
    private readonly handshake: Handshake,
    /** Called once, synchronously, when a message needs the SDK; it ends by calling `start`. */
    private readonly needSdk: () => void,
  ) {}

  /** Starts reading stdin before the SDK exists. */
  listen(): void {
    process.stdin.on("data", this.ondata);
    process.stdin.on("error", this.onstdinError);
  }

  /** Called by the SDK's Protocol.connect: from now on every message goes to the SDK. */
  async start(): Promise<void> {
    this.sdk = true;
    if (this.initialize) this.deliver({ ...this.initialize, id: REPLAY_ID });
    if (this.initialized) this.deliver(this.initialized);
    const queued = this.queue;
    this.queue = [];
    for (const value of queued) this.deliver(value);
  }

  /** The SDK's message schema, so messages are validated exactly as its own stdio transport does. */
  useParser(parse: (value: unknown) => JSONRPCMessage): void {
    this.parse = parse;
  }

  send(message: JSONRPCMessage): Promise<void> {
    if ("id" in message && message.id === REPLAY_ID && !("method" in message)) return Promise.resolve();
    return this.write(message);
  }

  async close(): Promise<void> {
    process.stdin.off("data", this.ondata);
    process.stdin.off("error", this.onstdinError);
    process.stdin.pause();
    this.onclose?.();
  }

  private write(message: unknown): Promise<void> {
    return new Promise((resolve) => {
      if (process.stdout.write(JSON.stringify(message) + "\n")) resolve();
      else process.stdout.once("drain", resolve);
    });
  }

  private receive(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (!this.skipping && this.pendingBytes + piece.length > MAX_LINE_BYTES) this.beginSkip(piece);
      if (this.skipping) {
        this.endSkip(piece);
        continue;
      }
      const line = this.pending.length > 0 ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      this.pendingBytes = 0;
      this.handleLine(line.toString("utf8").replace(/\r$/, ""));
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    if (!this.skipping && this.pendingBytes + rest.length > MAX_LINE_BYTES) this.beginSkip(rest);
    if (this.skipping) this.skipping.tail = lastBytes([this.skipping.tail, rest.subarray(Math.max(0, rest.length - EDGE_BYTES))]);
    else {
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
  }

  /** The line so far plus `more` is over the limit: keep only its edges from here on. */
  private beginSkip(more: Buffer): void {
    const parts = [...this.pending, more];
    const head = Buffer.concat(parts, Math.min(EDGE_BYTES, this.pendingBytes + more.length));
    this.skipping = { head, tail: Buffer.alloc(0) };
    this.pending = [];
    this.pendingBytes = 0;
    this.onerror?.(new Error(`a message line is over ${MAX_LINE_BYTES / (1024 * 1024)} MiB (${MAX_LINE_BYTES} bytes); skipping it`));
  }

  /** The skipped line ends with `last`: answer its request, when its id can be found, with why. */
  private endSkip(last: Buffer): void {
    const { head } = this.skipping!;
    const tail = lastBytes([this.skipping!.tail, last.subarray(Math.max(0, last.length - EDGE_BYTES))]);
    this.skipping = undefined;
    const found = HEAD_ID.exec(head.toString("utf8")) ?? TAIL_ID.exec(tail.toString("utf8").replace(/\r$/, ""));
    if (!found) return;
    const id = JSON.parse(found[1]!) as string | number;
    void this.write({
      jsonrpc: "2.0",
      id,
      error: {
        code: -32600,
        message: `this message is over ${MAX_LINE_BYTES / (1024 * 1024)} MiB (${MAX_LINE_BYTES} bytes), the most session-bridge reads as one MCP message; it was skipped. For a long text, send a file path instead`,
      },
    });
  }

  private handleLine(line: string): void {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      this.onerror?.(new Error(`unparsable message line (${describeError(err)})`));
      return;
    }
    if (this.sdk) this.deliver(value);
    else if (!this.answerFast(value)) {
      this.queue.push(value);
      this.needSdk();
    }
  }

  private deliver(value: unknown): void {
    let message: JSONRPCMessage;
    try {
      message = this.parse(value);
    } catch (err) {
      this.onerror?.(new Error(`invalid JSON-RPC message (${describeError(err)})`));
      return;
    }
    this.onmessage?.(message);
  }

  /** Answers a handshake message without the SDK; false when the SDK must handle it. */
  private answerFast(value: unknown): boolean {
    if (!isRecord(value) || value.jsonrpc !== "2.0" || typeof value.method !== "string") return false;
    const { id, method } = value;
    if (id === undefined) {
      if (method !== "notifications/initialized") return false;
      this.initialized = value;
      return true;
    }
    if (typeof id !== "string" && typeof id !== "number") return false;
    if (method === "initialize") {
      const params = isRecord(value.params) ? value.params : {};
      // Until the SDK has seen it, only a well-formed initialize is answered here.
      if (typeof params.protocolVersion !== "string" || !isRecord(params.capabilities) || !isRecord(params.clientInfo)) return false;
      this.initialize = value;
      void this.write({
        jsonrpc: "2.0",
        id,
        result: { protocolVersion: negotiateVersion(params.protocolVersion), ...this.handshake.server },
      });
      return true;
    }
    if (method === "server/discover") {
      // What the SDK answers for any method it has no handler for.
      void this.write({ jsonrpc: "2.0", id, error: { code: -32601, message: "Method not found" } });
      return true;
    }
    const list = method === "ping" ? () => ({}) : Object.hasOwn(this.handshake.lists, method) ? this.handshake.lists[method] : undefined;
    // A list request with a cursor or other parameters is left to the SDK.
    if (!list || (value.params !== undefined && !(isRecord(value.params) && Object.keys(value.params).every((k) => k === "_meta"))))
      return false;
    void this.write({ jsonrpc: "2.0", id, result: list() });
    return true;
  }
}

function lastBytes(parts: Buffer[]): Buffer {
  const joined = Buffer.concat(parts);
  return joined.length > EDGE_BYTES ? Buffer.from(joined.subarray(joined.length - EDGE_BYTES)) : joined;
}
