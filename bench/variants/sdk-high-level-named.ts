// Experiment (bench/mcp-variants.mjs): the high-level McpServer, with only the zod builders the tools use.
import "../../src/zod-jitless.ts";
import { array, boolean, number, object, string } from "zod";
export { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
export { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
export const z = { array, boolean, number, object, string };
