// build.mjs resolves this import to the bundled SDK source text and a hash of it.
declare module "embedded:mcp-sdk" {
  const source: string;
  export default source;
  export const sdkHash: string;
}

declare const __VERSION__: string;

// The dashboard's page, style and script, imported `with { type: "text" }` (esbuild's text loader).
declare module "*.html" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "*/dashboard-page.js" {
  const text: string;
  export default text;
}
