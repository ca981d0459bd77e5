// The tool input schemas and their checker, without processes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BridgeError } from "../../src/lib/errors.ts";
import { SETTINGS_TOOLS } from "../../src/mcp/settings-tools.ts";
import { BUS_TOOLS } from "../../src/mcp/bus-tools.ts";
import { defaultSettings, GLOBAL_KEYS, ROLE_KEYS, validateSettings } from "../../src/settings/schema.ts";
import { checkArgs, int, nullable, objectSchema, oneOf, str } from "../../src/mcp/tool-args.ts";

const tool = (name: string) => [...BUS_TOOLS, ...SETTINGS_TOOLS].find((t) => t.name === name)!;

test("bridge_settings mirrors GLOBAL_KEYS and bridge_set mirrors ROLE_KEYS", () => {
  assert.deepEqual(Object.keys(tool("bridge_settings").inputSchema.properties), GLOBAL_KEYS);
  assert.deepEqual(Object.keys(tool("bridge_set").inputSchema.properties), ["project", "role", ...Object.keys(ROLE_KEYS)]);
});

test("every default value passes its own bridge_settings schema, and null (reset) is accepted", () => {
  const schema = tool("bridge_settings").inputSchema;
  for (const key of GLOBAL_KEYS) assert.doesNotThrow(() => checkArgs("bridge_settings", schema, { [key]: null }), key);
  // Each key's own default (a dotted key is a nested one), as an admin echoing bridge_config back sends it.
  const defaults = defaultSettings() as unknown as Record<string, unknown>;
  for (const key of GLOBAL_KEYS) {
    const value = key.split(".").reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], defaults);
    assert.notEqual(value, undefined, `${key} has a default`);
    assert.deepEqual(checkArgs("bridge_settings", schema, { [key]: value }), { [key]: value }, key);
  }
  const sample = {
    enabled: true,
    defaultMode: "auto",
    driver: "spawn",
    maxHops: 3,
    cooldownSeconds: 0.5,
    denyTools: ["Bash(rm:*)"],
    "spawn.permissionMode": "plan",
    "guard.deny": [],
  };
  assert.deepEqual(checkArgs("bridge_settings", schema, sample), sample);
  // What the schema lets through, the authority (validateSettings) judges in the same terms.
  assert.deepEqual(
    validateSettings({
      enabled: true,
      defaultMode: "auto",
      driver: "spawn",
      maxHops: 3,
      cooldownSeconds: 0.5,
      spawn: { permissionMode: "plan" },
    }),
    [],
  );
});

test("checkArgs names every bad key and the rule", () => {
  const schema = objectSchema(
    {
      to: str("t", { minLength: 1, maxLength: 4 }),
      n: int("n", 1, 9),
      m: oneOf("m", ["a", "b"]),
      z: nullable({ type: "boolean" }),
      l: { type: "array", items: { type: "string" } },
    },
    ["to"],
  );
  const problems = (args: unknown): string => {
    try {
      checkArgs("t", schema, args);
      return "";
    } catch (err) {
      assert.ok(err instanceof BridgeError);
      assert.equal(err.code, "E_USAGE");
      return err.message;
    }
  };
  assert.equal(problems({ to: "ab" }), "");
  assert.equal(problems({ to: "ab", z: null, l: [] }), "");
  assert.match(problems({}), /"to" is required/);
  assert.match(problems(undefined), /"to" is required/);
  assert.match(problems([]), /expected an object/);
  assert.match(problems({ to: "abcde" }), /"to" must be a string of 1 to 4 characters \(got "abcde"\)/);
  assert.match(problems({ to: "a", n: 10 }), /"n" must be an integer from 1 to 9 \(got 10\)/);
  assert.match(problems({ to: "a", n: 1.5 }), /"n" must be an integer from 1 to 9/);
  assert.match(problems({ to: "a", m: "c" }), /"m" must be one of "a", "b" \(got "c"\)/);
  assert.match(problems({ to: "a", z: 1 }), /"z" must be a boolean or null/);
  assert.match(problems({ to: "a", l: ["x", 2] }), /"l" must be a list of strings; item 1 is not a string/);
  assert.match(problems({ to: "a", q: 1, n: 0 }), /unknown argument "q"; "n" must be .*\(known arguments: to, n, m, z, l\)/);
});
