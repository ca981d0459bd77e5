// The names in src/runtime/bundles.json are templates ("bundle/{name}.js"): build.mjs and
// scripts/build-sea.mjs fill them the same way when writing what this code reads.
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => values[key] ?? "");
}
