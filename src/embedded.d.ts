// build.mjs resolves this import to the bundled SDK source text and a hash of it.
declare module "embedded:mcp-sdk" {
  const source: string;
  export default source;
  export const sdkHash: string;
}

declare const __VERSION__: string;
