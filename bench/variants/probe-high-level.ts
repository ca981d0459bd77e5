// Experiment (bench/mcp-variants.mjs): the probe's twelve tools declared through McpServer with zod
// input shapes, the way the SDK's README writes servers. Run as `node FILE` (no subcommand).
import { loadMcpSdk } from "../../src/sdk-loader.ts";

type Sdk = typeof import("./sdk-high-level-named.ts");

const sdk = loadMcpSdk() as unknown as Sdk;
const { z } = sdk;
const text = (d: string) => z.string().describe(d);
const count = (d: string) => z.number().int().min(1).max(1000).describe(d).optional();
const tools: [string, string, Record<string, import("zod").ZodType>][] = [
  ["send", "Send a message to a role, or '*' for every other role.", { to: text("recipient role or '*'"), body: text("message text"), reply_to: text("id answered").optional(), queue: z.boolean().optional() }],
  ["recv", "Return unread messages and mark them read.", { limit: count("most messages to return") }],
  ["peek", "Return unread messages without consuming them.", { limit: count("most messages to return") }],
  ["tail", "The last messages delivered to this role.", { n: count("how many") }],
  ["roles", "Roles of the project, with live sessions.", {}],
  ["whoami", "This identity, its session and settings.", {}],
  ["status", "Queued or read, per recipient, for a message id.", { id: text("message id") }],
  ["wait", "Block until mail arrives or the timeout passes.", { timeout_s: count("seconds") }],
  ["spawner_status", "Whether automatic wake-ups are on, per role.", {}],
  ["spawner_set", "Change an automation setting (admin only).", { key: text("setting"), value: text("new value") }],
  ["doctor", "Diagnose the bus and the Claude Code integration.", { fix: z.boolean().optional() }],
  ["ack", "Mark messages read up to an id.", { id: text("last id read"), roles: z.array(text("role")).optional() }],
];
const server = new sdk.McpServer({ name: "session-bridge-probe", version: "0" });
for (const [name, description, inputSchema] of tools) {
  server.registerTool(`bridge_${name}`, { description, inputSchema }, async () => ({ content: [{ type: "text" as const, text: `probe: ${name}` }] }));
}
await server.connect(new sdk.StdioServerTransport());
