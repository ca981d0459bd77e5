// Experiment (bench/mcp-variants.mjs): the floor. The same initialize and tools/list answers written
// by hand over newline-delimited JSON-RPC, without the SDK: what node and our own code cost alone.
import { createInterface } from "node:readline";
import { PROBE_TOOLS } from "../../src/mcp-probe.ts";

const reply = (id: unknown, result: unknown) => process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id, result }) + "\n");
for await (const line of createInterface({ input: process.stdin })) {
  const msg = JSON.parse(line) as { id?: unknown; method: string; params?: { protocolVersion?: string } };
  if (msg.method === "initialize") {
    reply(msg.id, { protocolVersion: msg.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "session-bridge-probe", version: "0" } });
  } else if (msg.method === "tools/list") reply(msg.id, { tools: PROBE_TOOLS });
}
