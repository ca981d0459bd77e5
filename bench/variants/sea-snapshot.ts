// Experiment (bench/mcp-variants.mjs): a SEA entry for `"useSnapshot": true`. This script runs once,
// at build time; it evaluates the embedded SDK there, so the heap in the snapshot already holds zod's
// schemas. At startup Node deserializes that heap and calls the function registered below.
//   SNAPSHOT_WITH_SDK=0  (at build time) snapshot without the SDK, to see what a snapshot alone costs
//   SNAPSHOT_WARM=1      also answer initialize + tools/list once at build time, through in-memory
//                        streams, so the functions that path compiles are in the snapshot as well
import { PassThrough } from "node:stream";
import { startupSnapshot } from "node:v8";
import { loadMcpSdk } from "../../src/sdk-loader.ts";
import { PROBE_TOOLS, runMcpProbe } from "../../src/mcp-probe.ts";

if (process.env.SNAPSHOT_WITH_SDK !== "0") {
  const sdk = loadMcpSdk();
  // Node takes the snapshot once the event loop is empty, so the warm-up may finish asynchronously.
  if (process.env.SNAPSHOT_WARM === "1") void warmUp(sdk);
}

startupSnapshot.setDeserializeMainFunction(() => {
  const argv = process.argv.slice(2);
  if (argv[0] === "--version") {
    process.stdout.write(`${__VERSION__}\n`);
    return;
  }
  runMcpProbe(argv).then((code) => (process.exitCode = code));
});

async function warmUp(sdk: ReturnType<typeof loadMcpSdk>): Promise<void> {
  const input = new PassThrough();
  const output = new PassThrough();
  const server = new sdk.Server({ name: "warm-up", version: "0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(sdk.ListToolsRequestSchema, async () => ({ tools: [...PROBE_TOOLS] }));
  await server.connect(new sdk.StdioServerTransport(input, output));
  let answered = "";
  const done = new Promise<void>((resolve) => output.on("data", (d: Buffer) => (answered += d) && answered.includes('"id":2') && resolve()));
  input.write('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"w","version":"0"}}}\n');
  input.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n{"jsonrpc":"2.0","id":2,"method":"tools/list"}\n');
  await done;
  await server.close();
  input.destroy();
  output.destroy();
}
