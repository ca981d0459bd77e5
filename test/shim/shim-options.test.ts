// git's reading of a command line up to the subcommand (src/shim/options.ts): global options and
// the splitting of alias values. Real git's own answers for the same words are in shim-resolve.
import { test } from "node:test";
import assert from "node:assert/strict";
import { commandWord, readGlobalOptions, splitAlias } from "../../src/shim/options.ts";

test("global options are read up to the first word that is not one, values included", () => {
  const o = readGlobalOptions(["-C", "dir", "-c", "a.b=c", "--git-dir=x", "--no-pager", "--work-tree", "w", "push", "-f"]);
  assert.deepEqual(o.words, ["-C", "dir", "-c", "a.b=c", "--git-dir=x", "--no-pager", "--work-tree", "w"]);
  assert.deepEqual(o.rest, ["push", "-f"]);
  assert.deepEqual(o.chdirs, ["dir"]);
  assert.equal(o.stop, undefined);
  assert.equal(o.unknown, undefined);
  // An option's value is never the subcommand, even when it looks like one.
  assert.deepEqual(readGlobalOptions(["-c", "push", "status"]).rest, ["status"]);
  assert.deepEqual(readGlobalOptions(["--namespace", "commit", "log"]).rest, ["log"]);
  assert.deepEqual(readGlobalOptions(["--shallow-file", "reset", "log"]).rest, ["log"]);
  // -C with an empty value changes nothing, as in git.
  assert.deepEqual(readGlobalOptions(["-C", "", "status"]).chdirs, []);
});

test("--help, -h, --version and -v end the options and become commands", () => {
  assert.deepEqual(readGlobalOptions(["-P", "--help", "push"]).rest, ["--help", "push"]);
  assert.equal(commandWord("--help"), "help");
  assert.equal(commandWord("-h"), "help");
  assert.equal(commandWord("--version"), "version");
  assert.equal(commandWord("-v"), "version");
  assert.equal(commandWord("push"), "push");
});

test("query options stop git before any subcommand; --exec-path=DIR is kept", () => {
  for (const q of ["--exec-path", "--exec-pathX", "--html-path", "--man-path", "--info-path", "--list-cmds=builtins"])
    assert.ok(readGlobalOptions([q, "push"]).stop, q);
  const o = readGlobalOptions(["--exec-path=/x", "--exec-path=/y", "status"]);
  assert.equal(o.execPath, "/y");
  assert.deepEqual(o.rest, ["status"]);
});

test("a missing value is a usage error, an unknown option is reported", () => {
  assert.match(readGlobalOptions(["-C"]).stop!, /without its value/);
  assert.match(readGlobalOptions(["status", "-C"]).rest.join(" "), /status -C/);
  assert.equal(readGlobalOptions(["--frob", "push"]).unknown, "--frob");
  assert.equal(readGlobalOptions(["-", "push"]).unknown, "-");
});

test("alias values split like git's split_cmdline", () => {
  assert.deepEqual(splitAlias("log --oneline -5"), ["log", "--oneline", "-5"]);
  assert.deepEqual(splitAlias(`st"at"us 'a b' c\\ d`), ["status", "a b", "c d"]);
  assert.deepEqual(splitAlias(`"a\\"b" 'a\\b'`), ['a"b', "a\\b"]);
  // Only space, tab, newline and carriage return separate words (not \v or \f).
  assert.deepEqual(splitAlias("a\t\n\r b"), ["a", "b"]);
  assert.deepEqual(splitAlias("a\vb\fc"), ["a\vb\fc"]);
  // Blanks at either end make empty words.
  assert.deepEqual(splitAlias(" status"), ["", "status"]);
  assert.deepEqual(splitAlias("status "), ["status", ""]);
  assert.deepEqual(splitAlias(""), [""]);
  assert.deepEqual(splitAlias("status\\"), { error: "cmdline ends with \\" });
  assert.deepEqual(splitAlias("'status"), { error: "unclosed quote" });
});
