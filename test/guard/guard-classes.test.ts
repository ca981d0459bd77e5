// Hand-written cases for each class of guard-bash-truth.test.ts (which checks generated ones
// against bash): the examples of the issue that asked for them, and their harmless twins.
import { test } from "node:test";
import assert from "node:assert/strict";
import { checkCommand, DEFAULT_BLOCK_GIT, type GuardPolicy, type GuardVerdict } from "../../src/guard/check.ts";

const POLICY: GuardPolicy = { blockGit: DEFAULT_BLOCK_GIT, denyPatterns: [], protectSettings: true };

function verdict(v: GuardVerdict): string {
  return v.allow ? "allow" : `${v.rule}: ${v.blocked}`;
}

function runTable(cases: [string, string][]): void {
  const wrong = cases
    .map(([cmd, want]) => [cmd, want, verdict(checkCommand(cmd, POLICY))] as const)
    .filter(([, want, got]) => want !== got)
    .map(([cmd, want, got]) => `${JSON.stringify(cmd)}: want ${want}, got ${got}`);
  assert.deepEqual(wrong, []);
}

test("characters: only space and tab are blanks; a carriage return is part of a word, as in bash", () =>
  runTable([
    ["true\r# ; git push", "git: git push"],
    ["true \r# ; git push", "git: git push"],
    ["git push\r", "allow"], // git is asked for "push\r", which is no command
    ["git\rpush", "allow"],
    ["git status\r\ngit push\r\n", "allow"],
    ["git status\r\ngit commit -m x\r\n", "git: git commit"], // commit runs, with the message "x\r"
    ["true\f# ; git push", "git: git push"],
    ["true\u00a0# ; git push", "git: git push"],
    ["true\t# ; git push", "allow"],
    ["echo x#; git push", "git: git push"],
    ["echo $#; git push", "git: git push"],
    ["echo x #; git push", "allow"],
  ]));

test("brace expansion and sequences that make a word", () =>
  runTable([
    ["git {p..p}ush", "git: git push"],
    ["g{i..i}t push", "git: git push"],
    ["{g..g}it commit -m x", "git: git commit"],
    ["git {,push}", "git: git push"],
    ["git re{s,}et --hard", "git: git reset"],
    ["git {o..q}ush", "allow"], // git oush push qush
    ['{"git",} di{status,ff}', "allow"], // git distatus diff
    ["git {Z..a}", "allow"],
    ["git '{push,}'", "allow"],
  ]));

test("git configuration given in the command: aliases never replace git's own commands", () =>
  runTable([
    ["git -c alias.status=push status", "allow"],
    ["git -c alias.x=push x", "git: git push"],
    ["git -c alias.x='!git push' x", "git: git push"],
    ["git -c alias.x='!echo git push' x", "allow"],
    ["git -c alias.x='!git push' status", "allow"],
    ["git -c alias.x='push --help' x", "allow"],
    ["git -c alias.x=push x --help", "allow"], // shows what x stands for
    ["git -c alias.X=commit -c alias.y=x y -m m", "git: git commit"],
    ["GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.ci GIT_CONFIG_VALUE_0=commit git ci -m x", "git: git commit"],
    ["GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.ci GIT_CONFIG_VALUE_0=commit git status", "allow"],
    ["export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.p GIT_CONFIG_VALUE_0='!git push'\ngit p", "git: git push"],
    ["export GIT_CONFIG_PARAMETERS=\"'alias.p'='reset --hard'\"; git p", "git: git reset"],
    ["GIT_CONFIG_PARAMETERS=\"'core.pager'='git push'\" git log", "git: git push"],
    ["V=push git --config-env=alias.x=V x", "git: git push"],
    ["V=status git --config-env=alias.x=V x", "allow"],
    ["git -c help.autocorrect=immediate psuh", "git: git push"],
    ["git -c help.autocorrect=immediate stauts", "allow"],
    ["git -c help.autocorrect=0 psuh", "allow"],
    ["git -c include.path=/tmp/c x", "git: git x"],
    ["git -c include.path=/tmp/c status", "allow"],
    ["GIT_CONFIG_GLOBAL=/tmp/c git st", "git: git st"],
  ]));

test("a shell reading a script visible in the command: pipes, here-strings, here-documents, process substitution, descriptors", () =>
  runTable([
    ["echo 'git push' | bash", "git: git push"],
    ["echo 'echo git push' | bash", "allow"],
    ["printf 'git status\\ngit commit -m x\\n' | sh", "git: git commit"],
    ["printf 'git stash push\\n' | sh", "allow"],
    ["{ echo 'git push'; } | bash", "git: git push"],
    ["echo 'git push' | cat | bash -s", "git: git push"],
    ["echo 'git push' > /dev/null | bash", "allow"],
    ["bash /dev/stdin <<< 'git push'", "git: git push"],
    ["sh /proc/self/fd/0 <<'EOF'\ngit reset --hard\nEOF", "git: git reset"],
    ["bash < <(echo 'git push')", "git: git push"],
    ["bash <(echo 'git push')", "git: git push"],
    ["source <(echo 'git push')", "git: git push"],
    [". /dev/stdin <<< 'git log'", "allow"],
    ["exec 3<<<'git push'; bash /dev/fd/3", "git: git push"],
    ["exec 3< <(echo 'git commit -m x'); source /dev/fd/3", "git: git commit"],
    ["bash /dev/fd/3 3<<<'git push'", "git: git push"],
    ["bash <&3 3<<<'git push'", "allow"], // <&3 comes first, while 3 is closed: bash does not run
    ["echo 'git push' | script -q /dev/null", "git: git push"],
    ["echo 'git push' | tee >(bash)", "git: bash"],
    ["coproc bash; echo 'git push' >&${COPROC[1]}", "git: bash"],
    ["make 2> >(grep -v warning >&2)", "allow"],
    ["cat script.sh | bash", "allow"], // a script file: not read (documented limit)
    ['echo "$s" | bash', "git: $UNKNOWN_VALUE"],
  ]));

test("aliases, functions and hashed names defined earlier in the same command", () =>
  runTable([
    ["alias x='git push'\nx", "git: git push"],
    ["alias x=git\nx push", "git: git push"],
    ["alias x='git '\nalias y=push\nx y", "git: git push"],
    ["alias x='git push'; x", "allow"], // bash reads the line before defining x: `x` is not found
    ["bash -c $'alias x=\"git push\"\\nx'", "allow"], // expand_aliases is off in a new bash
    ["bash -c $'shopt -s expand_aliases\\nalias x=\"git push\"\\nx'", "git: git push"],
    ["f(){ git push; }; f", "git: git push"],
    ['f(){ git "$@"; }; f status', "allow"],
    ['f(){ git "$@"; }; f push', "git: git push"],
    ['f(){ git "$1"; }; f commit -m x', "git: git commit"],
    ['f(){ shift; git "$1"; }; f x push', 'git: git "$1"'],
    ["f() { f() { git push; }; f; }; f", "git: git push"],
    ['g=f; f(){ git push; }; "$g"', "git: git push"],
    ["f() { bash; }; echo 'git push' | f", "git: git push"],
    ['f() { echo "git $1"; }; f push | bash', "git: git push"],
    ['f() { echo "git $1"; }; f status | bash', "allow"],
    ["hash -p /usr/bin/git g; g push", "git: git push"],
    ["hash -p /usr/bin/git cat\ncat commit -m x", "git: git commit"],
    ["hash -p /usr/bin/git echo; echo push", "allow"], // the builtin echo comes before hashed names
  ]));

test("programs that run a command string from their arguments or from text in the command", () =>
  runTable([
    ["echo x | sed 's/x/git push/e'", "git: git push"],
    ["echo x | sed 's/x/echo git push/e'", "allow"],
    ["echo 'git push' | sed e", "git: git push"],
    ["sed '1e git push' <<< x", "git: git push"],
    ["echo x | sed --sandbox 's/x/git push/e'", "allow"],
    ["awk 'BEGIN { system(\"git push\") }'", "git: git push"],
    ["awk 'BEGIN { print \"git push\" }'", "allow"],
    ["echo 'git commit -m x' | awk '{ system($0) }'", "git: git commit"],
    ['perl -e \'system("git", "push")\'', "git: git push"],
    ["perl -e 'print \"git push\\n\"'", "allow"],
    ["python3 -c 'import os; os.system(\"git push\")'", "git: git push"],
    ['python3 -c \'import subprocess; subprocess.run(["git", "push"])\'', "git: git push"],
    ["python3 -c 'print(\"git push\")'", "allow"],
    ["make -f - <<< $'all:\\n\\tgit push'", "git: git push"],
    ["make -f <(printf 'all:\\n\\t@git commit -m x\\n')", "git: git commit"],
    ["printf 'all:\\n\\techo git push\\n' | make -f -", "allow"],
    ["make -f - <<'EOF'\nX := $(shell git reset --hard)\nall: ; @true\nEOF", "git: git reset"],
    ["vim -c '!git push' -c 'qa!'", "git: git push"],
    ["vim -es -c 'call system(\"git push\")' -c 'qa!'", "git: git push"],
    ["ex -s <<'EOF'\n!git commit -m x\nq!\nEOF", "git: git commit"],
    ["ex -s -c '%s/git push/git pull/' -c 'wq' notes.txt", "allow"],
    ["ed -s f <<< '!git push'", "git: git push"],
    ["script -qc 'git push' /dev/null", "git: git push"],
    ["sg staff -c 'git push'", "git: git push"],
    ["sg staff 'git push'", "git: git push"],
    ["ssh -o ProxyCommand='git push' host", "git: git push"],
    ["ssh '-oProxyCommand=git push' host", "git: git push"],
    ["ssh -o PermitLocalCommand=yes -o 'LocalCommand git commit -m x' host", "git: git commit"],
    ["ssh -o ProxyCommand=none host uptime", "allow"],
    ["scp -o ProxyCommand='git push' a host:b", "git: git push"],
    ["tar -cf /dev/null --checkpoint=1 --checkpoint-action=exec='git push' .", "git: git push"],
    ["tar -xf a.tar --to-command='git commit -m x'", "git: git commit"],
    ["tar -cf /dev/null --checkpoint-action=echo='git push' .", "allow"],
    ["strace -f -o /dev/null git push", "git: git push"],
    ["ltrace -o /dev/null git push", "git: git push"],
    ["gdb -batch -ex 'shell git push'", "git: git push"],
    ["gdb -batch -ex '!git reset --hard'", "git: git reset"],
    ["gdb -batch -ex run --args git push", "git: git push"],
    ["gdb -batch --args git push", "allow"], // loaded, never run
  ]));

test("bash constructs that evaluate code inside expansions and builtins", () =>
  runTable([
    ["x='$(git push)'; echo \"${x@P}\"", "git: git push"],
    ["x='$(git push)'; echo \"$x\"", "allow"],
    ["x=$(cat f); echo ${x@P}", "git: ${x@P}"],
    ["PS4='$(git push) '; set -x; true", "git: git push"],
    ["echo $(( a[$(git push)] ))", "git: git push"],
    ["echo $(( 'a[$(git push)]' ))", "git: git push"],
    ["x='a[$(git push)]'; echo $(( x ))", "git: git push"],
    ["x='a[$(git push)]'; (( x ))", "git: git push"],
    ["x='a[$(git push)]'; let x", "git: git push"],
    ["x='a[$(git push)]'; [[ x -eq 0 ]]", "git: git push"],
    ["x='a[$(git push)]'; echo ${!x}", "git: git push"],
    ["a=(1); echo \"${a['$(git push)']}\"", "git: git push"],
    ["printf -v 'a[$(git push)]' %s x", "git: git push"],
    ["printf -v y '%s' 'git push'", "allow"],
    ["read 'a[$(git commit -m x)]' <<< x", "git: git commit"],
    ["declare 'a[$(git push)]=1'", "git: git push"],
    ["typeset 'a[$(git push)]=1'", "git: git push"],
    ["f() { local 'a[$(git reset --hard)]=1'; }; f", "git: git reset"],
    ["test -v 'a[$(git push)]'", "git: git push"],
    ["[[ -v 'a[$(git push)]' ]]", "git: git push"],
    ["[[ -v 'a[1]' ]]", "allow"],
  ]));

test("help and syntax checks run nothing", () =>
  runTable([
    ["git push --help", "allow"],
    ["git commit -h", "allow"],
    ["git reset --hard -h", "allow"],
    ["git commit -m x --help", "allow"],
    ["git commit -m --help", "git: git commit"], // --help is the message
    ["git help commit", "allow"],
    ["bash -n x.sh", "allow"],
    ["bash -n -c 'git push'", "allow"],
    ["sh -n <<< 'git push'", "allow"],
    ["man git-push", "allow"],
  ]));

test("text that mentions a git command as data", () =>
  runTable([
    ['git commit-tree -m "undo git push" HEAD^{tree}', "allow"],
    ['echo "git push"', "allow"],
    ['grep -r "git push" .', "allow"],
    ["printf 'run git push\\n'", "allow"],
    ["cat <<'EOF'\ngit push\nEOF", "allow"],
    ["tee plan.md <<EOF\ngit reset --hard\nEOF", "allow"],
    ['jq -n \'{"cmd": "git push"}\'', "allow"],
    ["node -e 'console.log(\"git push\")'", "allow"],
    ["awk '/git push/ { print }' notes.txt", "allow"],
    ["git log --grep=commit", "allow"],
    ["git stash push -m 'before git reset'", "allow"],
    ["session-bridge send web 'please git push'", "allow"],
  ]));

test("reading or copying the settings is allowed, writing them is not", () =>
  runTable([
    ["cat ~/.claude/bridge/spawner.config.json", "allow"],
    ["cp ~/.claude/bridge/spawner.config.json /tmp/x", "allow"],
    ['cp "$HOME/.claude/bridge/spawner.config.json" /tmp/copy-$$.json', "allow"],
    ["jq . spawner.config.json", "allow"],
    ["tar -cf snap.tar spawner.config.json", "allow"],
    ["python3 -c 'import json; print(json.load(open(\"spawner.config.json\")))'", "allow"],
    ["python3 -c \"open('spawner.config.json', 'w').write('{}')\"", "settings: python3 … spawner.config.json"],
    ["perl -pi -e 's/a/b/' spawner.config.json", "settings: perl … spawner.config.json"],
    ["tar -xf backup.tar spawner.config.json", "settings: tar … spawner.config.json"],
    ["session-bridge spawner status", "allow"],
    ["session-bridge spawner config", "allow"],
    ["session-bridge spawner config maxHops=4", "settings: session-bridge spawner config"],
  ]));

test("what cannot be decided is denied, and the reason says what to do", () => {
  for (const [command, advice] of [
    ["git $sub", /write the git subcommand literally/],
    ["$GIT push", /write the command literally/],
    ['git -c alias.x="$v" x', /write the git subcommand literally/],
    ["x=$(cat f); echo ${x@P}", /write the command literally/],
  ] as const) {
    const v = checkCommand(command, POLICY);
    assert.ok(!v.allow, command);
    if (!v.allow) assert.match(v.reason, advice, command);
  }
});

test("state that earlier commands leave: traps run at the end, descriptors and aliases across lines", () =>
  runTable([
    ["trap f EXIT; f() { git push; }", "git: git push"],
    ["trap 'git push' EXIT", "git: git push"],
    ["exec 3<<<'git push'; (exec 3<<<'git status'); bash <&3", "git: git push"],
    ["alias x=bash\nx <<'EOF'\ngit push\nEOF", "git: git push"],
    ["alias x='echo git push |'\nx bash", "git: git push"],
    ["( shopt -u expand_aliases ); alias git=echo\ngit push", "git: git push"],
    ["[[ -f spawner.config.json ]] && echo yes", "allow"],
  ]));
