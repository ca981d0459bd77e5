// `session-bridge spawner on|off|set|config|status` as a user types them: what they print, what
// they refuse, and that a Claude Code session cannot flip its own rails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { BIN } from "../helpers/bin.ts";
import { baseEnv, cli, ok, sandbox, send } from "../helpers/spawner.ts";
import type { Sandbox } from "../helpers/spawner.ts";

function withBox(fn: (box: Sandbox) => void): () => void {
  return () => {
    const box = sandbox();
    try {
      fn(box);
    } finally {
      box.cleanup();
    }
  };
}

const config = (box: Sandbox): Record<string, unknown> => JSON.parse(readFileSync(join(box.root, "bridge-settings.json"), "utf8"));

test(
  "spawner with no command prints its usage and exits 2; an unknown one names it",
  withBox((box) => {
    const none = cli(box, ["spawner"]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /usage: session-bridge spawner <command>/);
    const bad = cli(box, ["spawner", "start"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown spawner command "start"/);
    assert.match(ok(box, ["spawner", "--help"]), /run \[--replay\]/);
    assert.match(ok(box, ["spawner", "set", "--force", "--help"]), /cwd=PATH/);
    assert.match(ok(box, ["--help"]), /spawner on\|off \[PROJECT\] \[ROLE\]/);
  }),
);

test(
  "spawner on: what changed, the default-off roles, and whether a daemon will act on it",
  withBox((box) => {
    const out = ok(box, ["spawner", "on"]);
    assert.equal(
      out,
      [
        "changed:",
        '  defaultMode: "manual" → "auto"',
        "  enabled: false → true",
        "note: default-off roles (infra, qa) stay manual unless named: session-bridge spawner on PROJECT infra",
        "note: no daemon is running, so nothing is woken yet: start one with `session-bridge spawner run`",
        "",
      ].join("\n"),
    );
    assert.match(ok(box, ["spawner", "on"]), /^no change: the settings already were so\n/);
    assert.match(
      ok(box, ["spawner", "on", "--force", "shop", "infra"]),
      /changed:\n {2}projects\.shop\.roles\.infra\.mode: \(unset\) → "auto"\nnote: shop\/infra: automatic via tmux \(auto by name/,
    );
    assert.deepEqual(config(box), { enabled: true, defaultMode: "auto", projects: { shop: { roles: { infra: { mode: "auto" } } } } });
    const json = JSON.parse(ok(box, ["spawner", "on", "--force", "shop", "--json"]));
    assert.deepEqual(json.changes, ['projects.shop.mode: (unset) → "auto"']);
    assert.equal(json.daemon.running, false);
  }),
);

test(
  "spawner off: globally the master switch, with names that project or role goes manual",
  withBox((box) => {
    ok(box, ["spawner", "on"]);
    assert.match(
      ok(box, ["spawner", "off", "--force", "shop", "web"]),
      /projects\.shop\.roles\.web\.mode: \(unset\) → "manual"\nnote: shop\/web is manual: its mail waits for its next prompt/,
    );
    assert.match(ok(box, ["spawner", "off"]), /enabled: true → false\nnote: nothing is woken automatically \(enabled: false\)/);
    const r = cli(box, ["spawner", "off", "--force", "bad name"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /E_BAD_NAME: invalid project name "bad name"/);
  }),
);

test(
  "spawner on/off/set refuse a project or role nobody has joined, naming the known ones; --force configures one that joins later",
  withBox((box) => {
    send(box, "shop", "api", "web", "hello"); // shop/api and shop/web have joined
    const before = cli(box, ["spawner", "config", "--json"]).stdout;
    const project = cli(box, ["spawner", "on", "shp"]);
    assert.equal(project.status, 1);
    assert.match(
      project.stderr,
      /E_UNKNOWN_PROJECT: no role has joined project "shp" and the settings do not name it \(known projects: shop; did you mean "shop"\?\); nothing changed\. Check the name, or add --force to configure a project before its first role joins/,
    );
    for (const args of [
      ["on", "shop", "webb"],
      ["off", "shop", "webb"],
      ["set", "shop", "webb", "model=opus"],
    ]) {
      const r = cli(box, ["spawner", ...args]);
      assert.equal(r.status, 1, args.join(" "));
      assert.match(
        r.stderr,
        /E_UNKNOWN_ROLE: role "webb" has not joined project "shop" and the settings do not name it \(known roles: api, web; did you mean "web"\?\); nothing changed\. Check the name, or add --force to configure a role before it joins/,
      );
    }
    assert.equal(cli(box, ["spawner", "config", "--json"]).stdout, before, "nothing was saved");
    assert.match(ok(box, ["spawner", "on", "shop", "web"]), /projects\.shop\.roles\.web\.mode: \(unset\) → "auto"/);
    assert.match(
      ok(box, ["spawner", "set", "shop", "db", "model=opus", "--force"]),
      /projects\.shop\.roles\.db\.model: \(unset\) → "opus"/,
    );
    // Once the settings name it, the role is known: no --force needed to change or undo it.
    assert.match(ok(box, ["spawner", "off", "shop", "db"]), /projects\.shop\.roles\.db\.mode: \(unset\) → "manual"/);
    assert.match(ok(box, ["spawner", "on", "lab", "--force"]), /projects\.lab\.mode: \(unset\) → "auto"/);
  }),
);

test(
  "spawner set: per-role keys, a relative cwd made absolute, KEY= unsets, unknown keys listed",
  withBox((box) => {
    const work = join(box.dir, "work");
    mkdirSync(work);
    const r = spawnSync(
      process.execPath,
      [BIN, "spawner", "set", "--force", "shop", "web", "cwd=work", "model=opus", "permissionMode=plan", "driver=spawn"],
      { cwd: box.dir, env: baseEnv(box), encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(config(box), {
      projects: { shop: { roles: { web: { cwd: work, model: "opus", permissionMode: "plan", driver: "spawn" } } } },
    });
    assert.match(ok(box, ["spawner", "set", "--force", "shop", "web", "model="]), /projects\.shop\.roles\.web\.model: "opus" → \(unset\)/);
    assert.match(
      ok(box, ["spawner", "set", "--force", "shop", "web", `cwd=${join(box.dir, "missing")}`]),
      /note: .*missing is not a folder yet; the spawn driver refuses to run until it is/,
    );
    const bad = cli(box, ["spawner", "set", "--force", "shop", "web", "colour=red"]);
    assert.equal(bad.status, 2);
    assert.match(
      bad.stderr,
      /unknown role setting "colour" \(known: mode, driver, fallback, cwd, model, tmuxTarget, permissionMode, agent, resume\)/,
    );
    const mode = cli(box, ["spawner", "set", "--force", "shop", "web", "permissionMode=yolo"]);
    assert.equal(mode.status, 1);
    assert.match(mode.stderr, /E_CONFIG: not saved: "projects\.shop\.roles\.web\.permissionMode" must be one of default, acceptEdits/);
    assert.equal(cli(box, ["spawner", "set", "--force", "shop", "web"]).status, 2);
  }),
);

test(
  "spawner config: lists the global settings; sets typed values; rejects bad ones with the rule",
  withBox((box) => {
    const list = ok(box, ["spawner", "config"]);
    assert.match(
      list,
      /^enabled = false\ndefaultMode = "manual"\ndriver = "tmux"\nfallback = "none"\nmaxHops = 6\nrateLimitPerMinute = 12\ncooldownSeconds = 10\n/,
    );
    assert.match(list, /defaultOffRoles = \["infra","qa"\]/);
    assert.match(
      ok(box, ["spawner", "config", "maxHops=3", "defaultOffRoles=infra,qa,prod", "cooldownSeconds=2.5"]),
      /cooldownSeconds: 10 → 2.5\n {2}defaultOffRoles: \["infra","qa"\] → \["infra","qa","prod"\]\n {2}maxHops: 6 → 3/,
    );
    assert.match(ok(box, ["spawner", "config", "maxHops="]), /maxHops: 3 → 6/);
    const zero = cli(box, ["spawner", "config", "maxHops=0"]);
    assert.equal(zero.status, 1);
    assert.match(zero.stderr, /E_CONFIG: not saved: "maxHops" must be an integer from 1 to 100 \(got 0\)/);
    const nan = cli(box, ["spawner", "config", "maxHops=lots"]);
    assert.equal(nan.status, 2);
    assert.match(nan.stderr, /maxHops must be a number \(got "lots"\)/);
    const unknown = cli(box, ["spawner", "config", "maxhops=3", "--json"]);
    assert.equal(unknown.status, 2);
    assert.equal(JSON.parse(unknown.stderr).error.code, "E_USAGE");
    assert.match(JSON.parse(unknown.stderr).error.message, /unknown setting "maxhops" \(known: enabled, defaultMode/);
    const nudge = cli(box, ["spawner", "config", "nudgePrompt=two\nlines"]);
    assert.equal(nudge.status, 1);
    assert.match(nudge.stderr, /one line of printable text/);
  }),
);

test(
  "a Claude Code session cannot change the rails; BRIDGE_ADMIN=1 can; anyone can read them",
  withBox((box) => {
    for (const args of [["on"], ["off"], ["set", "shop", "web", "model=x"], ["config", "maxHops=100"]]) {
      const r = cli(box, ["spawner", ...args], { CLAUDECODE: "1" });
      assert.equal(r.status, 1, args.join(" "));
      assert.match(r.stderr, /E_ADMIN_ONLY: .*a Claude Code session may not change them.*run the command from your own shell/);
    }
    assert.match(ok(box, ["spawner", "on"], { CLAUDECODE: "1", BRIDGE_ADMIN: "1" }), /enabled: false → true/);
    assert.match(ok(box, ["spawner", "status"], { CLAUDECODE: "1" }), /automation: on/);
    assert.match(ok(box, ["spawner", "config"], { CLAUDECODE: "1" }), /enabled = true/);
  }),
);

test(
  "spawner status: per role mode, driver, target and why not woken; a broken config is shown, not fatal",
  withBox((box) => {
    ok(box, ["spawner", "on"]);
    ok(box, ["spawner", "set", "--force", "shop", "api", "driver=spawn"]);
    send(box, "shop", "web", "infra", "hello");
    const text = ok(box, ["spawner", "status"]);
    assert.match(
      text,
      /^daemon: not running \(start it with `session-bridge spawner run`\)\nautomation: on; default mode auto; driver tmux; maxHops 6; rateLimitPerMinute 12; cooldownSeconds 10; default-off roles: infra, qa\n/,
    );
    assert.match(
      text,
      /\nshop\/api: auto via spawn → no cwd: session-bridge spawner set shop api cwd=PATH \(configured, not joined yet\)\n/,
    );
    assert.match(
      text,
      /\nshop\/infra: manual via tmux → no live session\n {2}not woken: "infra" is a default-off role; opt it in by name: session-bridge spawner on shop infra\n {2}unread: 1\n/,
    );
    assert.match(text, /\nshop\/web: auto via tmux → no live session\n/);
    const json = JSON.parse(ok(box, ["spawner", "status", "--json"]));
    assert.deepEqual(Object.keys(json), ["root", "daemon", "settings", "roles"]);
    assert.deepEqual(
      json.roles.map((r: { role: string }) => r.role),
      ["api", "infra", "web"],
    );
    const infra = json.roles[1];
    assert.equal(infra.auto, false);
    assert.equal(infra.unread, 1);
    writeFileSync(join(box.root, "bridge-settings.json"), "{nope");
    const broken = cli(box, ["spawner", "status"]);
    assert.equal(broken.status, 0);
    assert.match(broken.stdout, /config error: .*bridge-settings\.json is not valid JSON/);
    assert.match(JSON.parse(ok(box, ["spawner", "status", "--json"])).configError, /not valid JSON/);
  }),
);
