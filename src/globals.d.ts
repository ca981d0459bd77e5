// Defined by build.mjs.
declare const __VERSION__: string;
