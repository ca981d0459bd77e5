// Our table in Codex's config.toml: added at the end, replaced when the binary moved, removed
// exactly, a stranger's entry of the same name left alone on uninstall.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planCodexMcp, planCodexMcpRemoval, trustedHookKeys } from "../../src/install/codex-toml.ts";

const want = (bin: string) => ({
  command: "/usr/bin/node",
  args: [bin, "mcp"],
  env_vars: ["BRIDGE_PROJECT", "BRIDGE_ROLE"],
  required: true,
});

test("no trailing newline, an empty file, and a moved binary", () => {
  const text = 'model = "m" # note';
  const added = planCodexMcp("c.toml", text, want("/a/session-bridge.mjs"));
  assert.equal(added.text.slice(0, text.length + 2), `${text}\n\n`);
  assert.equal(planCodexMcpRemoval("c.toml", added.text).text, `${text}\n`, "removal keeps the line, ended");
  assert.match(planCodexMcp("c.toml", "", want("/a/session-bridge.mjs")).text, /^\[mcp_servers\.session-bridge\]\n/);
  const moved = planCodexMcp("c.toml", added.text, want("/b/session-bridge.mjs"));
  assert.equal(moved.changes.length, 1);
  assert.match(moved.changes[0]!, /^~ \[mcp_servers\.session-bridge\]: .*\/a\/session-bridge\.mjs.* → .*\/b\/session-bridge\.mjs/);
  assert.equal((moved.text.match(/\[mcp_servers\.session-bridge\]/g) ?? []).length, 1);
  assert.ok(moved.text.startsWith(text));
});

test("uninstall leaves an entry of our name that does not run session-bridge; mcp_servers that is not a table is refused", () => {
  const stranger = '[mcp_servers.session-bridge]\ncommand = "something-else"\nargs = []\n';
  assert.deepEqual(planCodexMcpRemoval("c.toml", stranger), { text: stranger, changes: [] });
  assert.throws(
    () => planCodexMcp("c.toml", 'mcp_servers = "x"\n', want("/a/session-bridge.mjs")),
    /"mcp_servers" in c\.toml is not a table/,
  );
});

test('trustedHookKeys reads the [hooks.state."KEY"] trusted_hash entries Codex writes', () => {
  const text =
    '[hooks.state."/h/hooks.json:user_prompt_submit:0:0"]\ntrusted_hash = "sha256:00"\n[hooks.state."/h/hooks.json:stop:0:0"]\nother = 1\n';
  assert.deepEqual([...trustedHookKeys("c.toml", text)], ["/h/hooks.json:user_prompt_submit:0:0"]);
});
