// Tool input schemas as plain JSON Schema, and the small checker that enforces them. The MCP
// server advertises these objects in tools/list as they are; the low-level SDK Server does not
// validate arguments, so every tools/call goes through `checkArgs` first. Only the subset used
// here is understood: type (one or a list), enum, minimum/maximum, minLength/maxLength, items,
// and objects with properties/required/additionalProperties: false.
import { BridgeError } from "../lib/errors.ts";
import { isRecord } from "../lib/fs.ts";

type TypeName = "string" | "integer" | "number" | "boolean" | "array" | "object" | "null";

export interface JsonSchema {
  type: TypeName | TypeName[];
  description?: string;
  enum?: readonly (string | null)[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  items?: JsonSchema;
  default?: unknown;
}

export interface ObjectSchema {
  type: "object";
  properties: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties: false;
}

export const str = (description: string, extra: Partial<JsonSchema> = {}): JsonSchema => ({ type: "string", description, ...extra });
export const int = (description: string, minimum: number, maximum: number): JsonSchema => ({
  type: "integer",
  description,
  minimum,
  maximum,
});
export const oneOf = (description: string, values: readonly string[]): JsonSchema => ({ type: "string", enum: values, description });

/** The same schema, also accepting null (which the settings tools read as "reset to the default"). */
export function nullable(schema: JsonSchema): JsonSchema {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return { ...schema, type: [...types, "null"], ...(schema.enum && { enum: [...schema.enum, null] }) };
}

export function objectSchema(properties: Record<string, JsonSchema>, required: string[] = []): ObjectSchema {
  return { type: "object", properties, ...(required.length > 0 && { required }), additionalProperties: false };
}

/** Checks `args` (absent means {}) against `schema`; E_USAGE names every bad key and what it must be. */
export function checkArgs(tool: string, schema: ObjectSchema, args: unknown): Record<string, unknown> {
  const value = args ?? {};
  const known = Object.keys(schema.properties);
  const knownText = known.length > 0 ? known.join(", ") : "none: call it with {}";
  if (!isRecord(value))
    throw new BridgeError("E_USAGE", `invalid arguments for ${tool}: expected an object (known arguments: ${knownText})`);
  const problems: string[] = [];
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) problems.push(`"${key}" is required`);
  }
  for (const [key, v] of Object.entries(value)) {
    const property = Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
    if (!property) {
      problems.push(`unknown argument "${key}"`);
      continue;
    }
    if (v === undefined) continue;
    const want = check(property, v);
    if (want) problems.push(`"${key}" must be ${want} (got ${shown(v)})`);
  }
  if (problems.length > 0) {
    throw new BridgeError("E_USAGE", `invalid arguments for ${tool}: ${problems.join("; ")} (known arguments: ${knownText})`);
  }
  return value;
}

/** undefined when `v` fits `schema`, else what it must be. */
function check(schema: JsonSchema, v: unknown): string | undefined {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const type = types.find((t) => hasType(t, v));
  if (!type) return describe(schema);
  if (type === "null") return undefined;
  if (schema.enum && !schema.enum.includes(v as string)) return describe(schema);
  if (typeof v === "number") {
    if ((schema.minimum !== undefined && v < schema.minimum) || (schema.maximum !== undefined && v > schema.maximum))
      return describe(schema);
  }
  if (typeof v === "string") {
    if (
      (schema.minLength !== undefined && v.length < schema.minLength) ||
      (schema.maxLength !== undefined && v.length > schema.maxLength)
    ) {
      return describe(schema);
    }
  }
  if (Array.isArray(v) && schema.items) {
    const bad = v.findIndex((item) => check(schema.items!, item) !== undefined);
    if (bad !== -1) return `${describe(schema)}; item ${bad} is not ${describe(schema.items)}`;
  }
  return undefined;
}

function hasType(type: TypeName, v: unknown): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return typeof v === "boolean";
    case "array":
      return Array.isArray(v);
    case "object":
      return isRecord(v);
    case "null":
      return v === null;
  }
}

function describe(schema: JsonSchema): string {
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]).filter((t) => t !== "null");
  const orNull = types.length !== (Array.isArray(schema.type) ? schema.type.length : 1) ? " or null" : "";
  if (schema.enum)
    return `one of ${schema.enum
      .filter((e) => e !== null)
      .map((e) => JSON.stringify(e))
      .join(", ")}${orNull}`;
  const parts = types.map((t) => {
    if ((t === "integer" || t === "number") && (schema.minimum !== undefined || schema.maximum !== undefined)) {
      return `${t === "integer" ? "an integer" : "a number"} from ${schema.minimum ?? "-∞"} to ${schema.maximum ?? "∞"}`;
    }
    if (t === "string" && schema.maxLength !== undefined) return `a string of ${schema.minLength ?? 0} to ${schema.maxLength} characters`;
    if (t === "string" && schema.minLength) return "a non-empty string";
    if (t === "array" && schema.items) return `a list of ${describe(schema.items).replace(/^an? /, "")}s`;
    return t === "integer" || t === "array" || t === "object" ? `an ${t}` : `a ${t}`;
  });
  return parts.join(" or ") + orNull;
}

function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
