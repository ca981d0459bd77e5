// build.mjs resolves this import to the bundled SDK source text.
declare module "embedded:mcp-sdk" {
  const source: string;
  export default source;
}

declare const __VERSION__: string;
