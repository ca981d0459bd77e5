// Just enough TOML to write Codex's config.toml from a plain object: scalars and arrays of
// scalars as `key = value`, nested objects as `[a.b]` tables. JSON string escapes are valid TOML
// basic-string escapes, so strings go through JSON.stringify.

type Scalar = string | number | boolean;
export type TomlValue = Scalar | Scalar[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue | undefined;
}

const key = (k: string) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k));

function scalar(v: Scalar, where: string): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "boolean") return String(v);
  if (Number.isFinite(v)) return String(v);
  throw new Error(`${where}: ${v} is not a TOML number`);
}

function isTable(v: unknown): v is TomlTable {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function toToml(table: TomlTable): string {
  return sections(table, [])
    .map(([header, lines]) => [...(header === "" ? [] : [header]), ...lines].join("\n"))
    .filter((text) => text !== "")
    .join("\n\n")
    .concat("\n");
}

/** `[header, key = value lines]` for this table, then for each sub-table in order (depth first). */
function sections(table: TomlTable, path: string[]): [string, string[]][] {
  const lines: string[] = [];
  const subs: [string, TomlTable][] = [];
  for (const [k, v] of Object.entries(table)) {
    if (v === undefined) continue;
    const where = [...path, k].join(".");
    if (isTable(v)) subs.push([k, v]);
    else if (Array.isArray(v)) lines.push(`${key(k)} = [${v.map((x) => scalar(x, where)).join(", ")}]`);
    else lines.push(`${key(k)} = ${scalar(v, where)}`);
  }
  const header = path.length === 0 ? "" : `[${path.map(key).join(".")}]`;
  return [[header, lines], ...subs.flatMap(([k, sub]) => sections(sub, [...path, k]))];
}
