// The shell parser under the guard: what it lists, and that it reads real bash the way bash
// does (every line here is checked with `bash -n` too, where bash is available).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { parseShell, ShellSyntaxError, DYN } from "../../src/shell/parse.ts";

const words = (text: string) => parseShell(text).map((c) => c.words.map((w) => w.value));

test("commands are listed in execution order, substitutions first", () => {
  assert.deepEqual(words("a $(b c) | d; e `f`"), [["b", "c"], ["a", DYN], ["d"], ["f"], ["e", DYN]]);
  assert.deepEqual(words("if a; then b; else c; fi; for x in 1 2; do d; done"), [["a"], ["b"], ["c"], ["d"]]);
  assert.deepEqual(words("case $x in a|b) c ;; *) d ;; esac"), [["c"], ["d"]]);
  assert.deepEqual(words("[[ -f x ]] && h"), [["[[", "-f", "x", "]]"], ["h"]]);
});

test("a function definition is one entry holding its body, which runs where it is called", () => {
  const [def, call] = parseShell('f() { g "$1"; }; f a');
  assert.deepEqual(def!.fn, { name: "f", text: '{ g "$1"; }' });
  assert.deepEqual(def!.words, []);
  assert.deepEqual(
    call!.words.map((w) => w.value),
    ["f", "a"],
  );
  const arg = { value: "push", raw: "push", dynamic: false, split: false, pattern: "push" };
  const body = parseShell(def!.fn!.text, 0, { positional: [arg] });
  assert.deepEqual(
    body.map((c) => c.words.map((w) => w.value)),
    [["g", "push"]],
  );
  assert.deepEqual(words("function h { a; }\nh() ( b )"), [[], []]);
  assert.throws(() => parseShell("f() { g; "), ShellSyntaxError);
});

test("each command knows its top-level line: bash reads and runs one at a time", () => {
  const lines = (text: string) => parseShell(text).map((c) => c.line);
  assert.deepEqual(lines("a; b\nc && d\n{ e\nf; }\ng $(h)"), [0, 0, 1, 1, 2, 2, 3, 3]);
});

test("quotes are removed and expansions marked", () => {
  const [cmd] = parseShell(`g\\it "co"'mm'it $'\\x41' "$x" $y *.ts 'a b'`);
  assert.deepEqual(
    cmd!.words.map((w) => w.value),
    ["git", "commit", "A", DYN, DYN, "*.ts", "a b"],
  );
  assert.deepEqual(
    cmd!.words.map((w) => [w.dynamic, w.split]),
    [
      [false, false],
      [false, false],
      [false, false],
      [true, false],
      [true, true],
      [true, false],
      [false, false],
    ],
  );
});

test("assignments, redirections, here-documents and pipes are kept apart", () => {
  const [a, b] = parseShell("X=1 cat <<'EOF' 2>&1 | sh\n$(not run)\nEOF\n");
  assert.deepEqual(
    a!.assigns.map((w) => w.value),
    ["X=1"],
  );
  assert.deepEqual(
    a!.redirects.map((r) => r.op),
    ["<<", ">&"],
  );
  assert.equal(a!.redirects[0]!.body, "$(not run)\n");
  assert.equal(b!.upstream?.[0], a);
  assert.deepEqual(words("cat <<EOF\n$(run)\nEOF"), [["run"], ["cat"]]);
});

test("brace expansion makes words, as bash does", () => {
  assert.deepEqual(words("{git,push} a{b,c}d {1..3} '{x,y}'"), [["git", "push", "abd", "acd", "1", "2", "3", "{x,y}"]]);
});

test("broken input throws ShellSyntaxError", () => {
  for (const bad of ["echo 'x", 'echo "x', "echo $(x", "echo `x", "echo ${x", "ls )", "| x", "echo >", "(echo", "echo <(ls"]) {
    assert.throws(() => parseShell(bad), ShellSyntaxError, bad);
  }
});

const VALID = [
  'echo "${arr[@]}" ${var//pat/repl} ${var#*/} ${var%%.*}',
  "x=$(< file)",
  "{ echo a; echo b; } > out 2>&1",
  '[ "$a" = "b" ] && test $# -gt 0',
  'echo ~user/ a\\ b "multi\nline"',
  "ls -- -weird",
  'echo $((16#ff)) ${#} "$(( $(date +%s) - 5 ))"',
  "cmd 2> >(grep x >&2)",
  "echo foo |& tee x",
  'a=$((a+1)); echo "a" \\\n  "b"',
  "if ! command -v jq >/dev/null; then echo no; fi",
  'while IFS= read -r line; do echo "$line"; done <<< "$x"',
  'echo ${x:-"default value"} ${x:+"$y"}',
  "cat <<A <<B\na\nA\nb\nB",
  "case $x in (a) echo;; esac",
  "function f() { echo; }",
  "x=(1 2 3); echo ${x[1]}",
  "echo a;# comment",
  "echo $\"locale\" $'a\\'b'",
  'for f in "$@"; do :; done',
  "select x in a b; do break; done",
  "(( x > 1 )) && echo big",
  "if (( $(wc -l < f) > 3 )); then echo; fi",
  "echo $( (echo a) )",
  'echo "$( (cd /; pwd) )"',
  "[[ $a < $b && -n ${c} ]] || echo",
  "echo {a,b}{c,d} {1..10..2} {a..e}",
  "printf '%s\\n' \"a'b\" 'c\"d' \"e\\\"f\" 'g\\h'",
  'echo "`echo \\"hi\\"`"',
  "echo `echo \\`echo hi\\``",
  "x=`date +%s`; echo $x",
  "git log --pretty=format:'%h %s' | head -n 5",
  "sed -e 's/a/b/g' -e \"s/\\$x/y/\" file",
  "awk -F: '$3 > 1000 { print $1 }' /etc/passwd",
  "find . -type f \\( -name '*.ts' -o -name '*.js' \\) -print0 | xargs -0 grep -l foo",
  "echo done & ",
  "echo a && { echo b || echo c; }",
  "exec 3<>/tmp/x; echo >&3; exec 3>&-",
  "echo ${!prefix@} ${!arr[@]}",
  "declare -A m=([a]=1 [b]=2)",
  'local -a arr=("$@")',
  'echo "a $(echo "b $(echo c)")"',
  'case "$f" in *.ts|*.js) echo code;; *) ;; esac',
  "case $x in\n  a)\n    echo a\n    ;;\n  b) echo b\nesac",
  "until [ -f x ]; do sleep 1; done",
  "echo $'\\u00e9' $'\\x41' $'\\101'",
  "cat << 'EOF' > /tmp/f.sh\n#!/bin/bash\necho \"$(whoami)\" `date` ${HOME}\nEOF",
  "mapfile -t lines < <(ls)",
  'echo "${x/#\\~/$HOME}"',
  '[[ "$s" == *"needle"* ]]',
  "time (sleep 0)",
  'echo a | while read l; do echo "$l"; done | sort',
  "f() (echo sub)",
  'echo "${a[*]:1:2}" "${#a[@]}"',
  "ls {,/usr}/bin >/dev/null",
  "echo $((x++)) $((--y)) $(( 1 << 2 ))",
  "echo '#not a comment' \"#nor\" a#b",
  "if true\nthen\n  echo\nelif false; then :\nelse :\nfi",
  "echo 'it'\\''s'",
  '[[ -z "$x" ]] && { echo empty; exit 1; }',
  "x=${y:-$(echo default)}",
  "printf -v out '%q' \"$x\"",
  "set -euo pipefail; IFS=$'\\n\\t'",
  'export PATH="$HOME/bin:$PATH"; hash -r',
  "node -e 'console.log(\"a)b\")'",
  "python3 - <<'PY'\nimport sys\nprint(sys.argv)\nPY",
  'cat > f.json <<EOF\n{"a": "$(date)", "b": [1, 2]}\nEOF',
  "for i in $(seq 1 3); do echo $i; done; wait",
  "echo $[1+2]",
  "echo ${x@Q}",
  "! true",
  'echo "$((  (1+2) * (3+4)  ))"',
  "arr+=(x y)",
  "x+=abc",
  "echo a >| f",
  "cat <&0",
  "diff -u <(sort a) <(sort b) || true",
  "{ read -r a; read -r b; } < f",
  'echo "a\\\\" b',
  "echo \\\\; echo \\#x",
  "echo \"}\" '{' \\{ \\}",
  "echo $((x)) $(echo)",
  'let "x = 1 + 2"\n',
];

test("valid bash from everyday use parses", () => {
  const failed = VALID.flatMap((c) => {
    try {
      parseShell(c);
      return [];
    } catch (err) {
      return [`${JSON.stringify(c)}: ${(err as Error).message}`];
    }
  });
  assert.deepEqual(failed, []);
});

test("and bash agrees that it is valid", (t) => {
  if (spawnSync("bash", ["-c", "true"]).status !== 0) return t.skip("bash is not available");
  const rejected = VALID.filter((c) => spawnSync("bash", ["-n", "-c", c]).status !== 0);
  assert.deepEqual(rejected, []);
});
