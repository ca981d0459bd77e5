// The parts of @modelcontextprotocol/sdk the MCP server uses. build.mjs bundles this file on its
// own and embeds it as a string (see src/sdk-loader.ts) so that no other command parses it.
// First, so that it runs before the SDK's types.js builds its zod schemas:
import "./zod-jitless.ts";
export { Server } from "@modelcontextprotocol/sdk/server/index.js";
export { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
export {
  CallToolRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListToolsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
