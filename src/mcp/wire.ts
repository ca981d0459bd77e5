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
const MAX_LINE_BYTES = 10 * 1024 * 1024;

type RpcMessage = Record<string, unknown>;

export class StdioWire implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private buffer: Buffer | undefined;
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
    this.buffer = this.buffer ? Buffer.concat([this.buffer, chunk]) : chunk;
    if (this.buffer.length > MAX_LINE_BYTES && this.buffer.indexOf(0x0a) === -1) {
      this.buffer = undefined;
      this.onerror?.(new Error(`a message line passed ${MAX_LINE_BYTES} bytes; dropped it`));
      return;
    }
    for (let nl = this.buffer.indexOf(0x0a); nl !== -1 && this.buffer; nl = this.buffer.indexOf(0x0a)) {
      const line = this.buffer.toString("utf8", 0, nl).replace(/\r$/, "");
      this.buffer = this.buffer.subarray(nl + 1);
      if (line.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        this.onerror?.(new Error(`unparsable message line (${describeError(err)})`));
        continue;
      }
      if (this.sdk) this.deliver(value);
      else if (!this.answerFast(value)) {
        this.queue.push(value);
        this.needSdk();
      }
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
