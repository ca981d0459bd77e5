// Defined by build.mjs.
declare const __VERSION__: string;
/** The launcher's fast start (src/fast-start.ts, built by build.mjs): `node -e` code. */
declare const __FAST_START__: string;

// The dashboard's page, style and script, imported `with { type: "text" }` (esbuild's text loader).
declare module "*.html" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "*/page.js" {
  const text: string;
  export default text;
}
