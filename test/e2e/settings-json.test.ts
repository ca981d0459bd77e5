// Pins what session-bridge's JSON messages tell users about Claude Code 2.1.328: a settings.json
// with a comment or a trailing comma does not load at all (its hooks do not run), and Claude Code
// says so on stderr. src/lib/json-error.ts names those two mistakes with "Claude Code refuses them too".
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { addHook, makeSandbox, runHeadless } from "./claude.ts";
import { reply, startModelServer, type ModelServer } from "./model-server.ts";
import { hookCommand } from "./stand-ins.ts";

let server: ModelServer;
before(async () => {
  server = await startModelServer();
});
after(() => server.close());

const EDITS: [string, (text: string) => string, boolean][] = [
  ["valid", (s) => s, true],
  ["a comment", (s) => s.replace("{", "{\n  // my hooks\n"), false],
  ["a trailing comma", (s) => s.replace(/\}\s*$/, ",}\n"), false],
];

for (const [name, edit, loads] of EDITS) {
  test(`settings.json with ${name}: ${loads ? "its hooks run" : "nothing in it loads, and claude says so"}`, async (t) => {
    const box = makeSandbox(t, { baseUrl: server.baseUrl(name.replace(/ /g, "-")) });
    const log = join(box.root, "hook.jsonl");
    addHook(box.configDir, "UserPromptSubmit", { command: hookCommand(log, "record") });
    const file = join(box.configDir, "settings.json");
    writeFileSync(file, edit(readFileSync(file, "utf8")));
    server.script(name.replace(/ /g, "-"), [reply("OK")]);
    const r = await runHeadless({ cwd: box.cwd, env: box.env, prompt: "hi", args: [] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(log), loads, "the hook ran");
    if (!loads) {
      assert.match(r.stderr, /These settings files did not load, so nothing in them is in effect, including hooks and permission rules/);
      assert.ok(r.stderr.includes(`${file}: Invalid or malformed JSON`), r.stderr);
    }
  });
}
