// Experiment (bench/mcp-variants.mjs): the high-level McpServer, with zod re-exported as a namespace.
import "../../src/zod-jitless.ts";
export { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
export { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
export * as z from "zod";
