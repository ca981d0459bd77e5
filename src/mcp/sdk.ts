// The parts of @modelcontextprotocol/sdk the MCP server uses. build.mjs bundles this file on its
// own and embeds it as a string (see src/mcp/sdk-loader.ts) so that no other command parses it.
// Only the low-level Server: tools are plain JSON-schema objects (src/mcp/tool-args.ts), so the
// high-level McpServer and its zod-to-JSON-schema machinery are never needed. The stdio side is
// src/mcp/wire.ts, which answers the handshake before this bundle is even evaluated.
// First, so that it runs before the SDK's types.js builds its zod schemas:
import "./zod-jitless.ts";
export { Server } from "@modelcontextprotocol/sdk/server/index.js";
export {
  CallToolRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  JSONRPCMessageSchema,
  ListPromptsRequestSchema,
  ListToolsRequestSchema,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
