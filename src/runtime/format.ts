// The names in src/runtime/bundle-format.json are templates ("bundle/{name}.js"): build.mjs and
// scripts/build-sea.mjs fill them the same way when writing what this code reads.
// No regular expression: a hook fills one on every run, and compiling one costs more than the fill.
export function fillTemplate(template: string, values: Record<string, string>): string {
  let out = template;
  for (const key of Object.keys(values)) out = out.replaceAll(`{${key}}`, values[key]!);
  return out;
}
