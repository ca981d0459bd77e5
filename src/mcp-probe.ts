// `session-bridge __mcp-probe`: a stand-in MCP server (hidden, undocumented) that answers
// initialize, tools/list and tools/call with a dozen dummy tools shaped like the real ones. It exists
// to measure what the SDK costs at startup (bench/startup.mjs) and to smoke-test the single
// executable; it shares nothing with src/mcp.ts, so either can change or go without the other.
import { parseArgs } from "./args.ts";
import { loadMcpSdk, saveMcpSdkCodeCache } from "./sdk-loader.ts";

interface ProbeTool {
  name: string;
  description: string;
  inputSchema: { type: "object"; properties: Record<string, unknown>; required?: string[] };
}

const text = (description: string) => ({ type: "string", description });
const count = (description: string) => ({ type: "integer", minimum: 1, maximum: 1000, description });

// Twelve tools with realistic JSON-schema inputs, so tools/list serializes about what the real server will.
export const PROBE_TOOLS: readonly ProbeTool[] = [
  ["send", "Send a message to a role, or '*' for every other role.", { to: text("recipient role or '*'"), body: text("message text"), reply_to: text("id answered"), queue: { type: "boolean" } }, ["to", "body"]],
  ["recv", "Return unread messages and mark them read.", { limit: count("most messages to return") }, []],
  ["peek", "Return unread messages without consuming them.", { limit: count("most messages to return") }, []],
  ["tail", "The last messages delivered to this role.", { n: count("how many") }, []],
  ["roles", "Roles of the project, with live sessions.", {}, []],
  ["whoami", "This identity, its session and settings.", {}, []],
  ["status", "Queued or read, per recipient, for a message id.", { id: text("message id") }, ["id"]],
  ["wait", "Block until mail arrives or the timeout passes.", { timeout_s: count("seconds") }, []],
  ["spawner_status", "Whether automatic wake-ups are on, per role.", {}, []],
  ["spawner_set", "Change an automation setting (admin only).", { key: text("setting"), value: text("new value") }, ["key", "value"]],
  ["doctor", "Diagnose the bus and the Claude Code integration.", { fix: { type: "boolean" } }, []],
  ["ack", "Mark messages read up to an id.", { id: text("last id read"), roles: { type: "array", items: text("role") } }, ["id"]],
].map(([name, description, properties, required]) => ({
  name: `bridge_${name as string}`,
  description: description as string,
  inputSchema: { type: "object", properties: properties as Record<string, unknown>, required: required as string[] },
}));

const USAGE = "usage: session-bridge __mcp-probe [--code-cache DIR]   (a dummy MCP server on stdio, for benchmarks)";

export async function runMcpProbe(argv: string[]): Promise<number> {
  const { flags } = parseArgs(argv.slice(1), { "code-cache": "string" }, USAGE);
  const codeCacheDir = typeof flags["code-cache"] === "string" ? flags["code-cache"] : undefined;
  const sdk = loadMcpSdk(codeCacheDir ? { codeCacheDir } : {});
  const server = new sdk.Server({ name: "session-bridge-probe", version: __VERSION__ }, { capabilities: { tools: {} } });
  server.setRequestHandler(sdk.ListToolsRequestSchema, async () => {
    // After this answer is sent, so the cache holds what initialize and tools/list compiled.
    setImmediate(saveMcpSdkCodeCache);
    return { tools: [...PROBE_TOOLS] };
  });
  server.setRequestHandler(sdk.CallToolRequestSchema, async (request) => ({
    content: [{ type: "text", text: `probe: ${request.params.name} called` }],
  }));
  const closed = new Promise<number>((resolve) => {
    // The transport never closes itself when stdin ends; a client hanging up is a clean exit.
    process.stdin.once("end", () => resolve(0));
  });
  await server.connect(new sdk.StdioServerTransport());
  return closed;
}
