// Turns off zod's JIT before the SDK builds its schemas (zod reads the setting per schema, at
// construction): on its first parse, each zod object schema compiles a `new Function` fast path,
// which costs more than it saves in a server that parses a few dozen messages per session
// (~2.5 ms of `mcp` startup here). src/mcp/sdk.ts imports this module first for that reason.
import { config } from "zod/v4/core";

config({ jitless: true });
