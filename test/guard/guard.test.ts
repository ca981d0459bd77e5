import { test } from "node:test";
import assert from "node:assert/strict";
import { checkCommand, parseBlockGit, DEFAULT_BLOCK_GIT, type GuardPolicy, type GuardVerdict } from "../../src/guard/check.ts";
import { BridgeError } from "../../src/lib/errors.ts";

const POLICY: GuardPolicy = {
  blockGit: DEFAULT_BLOCK_GIT,
  denyPatterns: ["kubectl apply", "terraform apply", "vercel deploy", "npm publish"],
  protectSettings: true,
};

/** [command, expected]: "allow", or "rule: blocked". */
type Case = [string, string];

function verdict(v: GuardVerdict): string {
  return v.allow ? "allow" : `${v.rule}: ${v.blocked}`;
}

function runTable(cases: Case[], policy: GuardPolicy = POLICY): void {
  const wrong = cases
    .map(([cmd, want]) => [cmd, want, verdict(checkCommand(cmd, policy))] as const)
    .filter(([, want, got]) => want !== got)
    .map(([cmd, want, got]) => `${JSON.stringify(cmd)}: want ${want}, got ${got}`);
  assert.deepEqual(wrong, []);
}

const BYPASSES: Case[] = [
  ["git commit -m 'x'", "git: git commit"],
  ["git push origin main", "git: git push"],
  ["git reset --hard HEAD~1", "git: git reset"],
  ["/usr/bin/git push", "git: git push"],
  ["./git push", "git: git push"],
  ['"git" "commit"', "git: git commit"],
  ["git 'push'", "git: git push"],
  ["g\\it co\\mmit", "git: git commit"],
  ["git pu\\\nsh", "git: git push"],
  ["git \\\n  push", "git: git push"],
  ["git $'\\x70ush'", "git: git push"],
  ["git pu''sh", "git: git push"],
  ["ls; git push", "git: git push"],
  ["ls && git push", "git: git push"],
  ["ls || git push", "git: git push"],
  ["ls | git push", "git: git push"],
  ["sleep 1 & git push", "git: git push"],
  ["ls\ngit push", "git: git push"],
  ["(git push)", "git: git push"],
  ["{ git push; }", "git: git push"],
  ["echo $(git push)", "git: git push"],
  ['echo "$(git push)"', "git: git push"],
  ["echo `git push`", "git: git push"],
  ['echo "x$(echo "$(git commit)")"', "git: git commit"],
  ["echo `echo \\`git push\\``", "git: git push"],
  ["diff <(git push) a", "git: git push"],
  ["sh -c 'git push'", "git: git push"],
  ['bash -c "git push"', "git: git push"],
  ["zsh -c 'git commit -am x'", "git: git commit"],
  ["dash -c 'git reset'", "git: git reset"],
  ["bash -lc 'cd /x && git push'", "git: git push"],
  ["bash -e -c 'git push'", "git: git push"],
  ["bash -o pipefail -c 'git push'", "git: git push"],
  ["eval 'git push'", "git: git push"],
  ["eval git push", "git: git push"],
  ["echo push | xargs git", "git: git push"],
  ["xargs git < subcommands.txt", "git: git <stdin>"],
  ["env VAR=1 git push", "git: git push"],
  ["env -i git push", "git: git push"],
  ["VAR=x git commit", "git: git commit"],
  ["command git push", "git: git push"],
  ["exec git push", "git: git push"],
  ["nohup git push &", "git: git push"],
  ["time git push", "git: git push"],
  ["sudo git push", "git: git push"],
  ["sudo -u root git commit", "git: git commit"],
  ["nice -n 5 git push", "git: git push"],
  ["timeout 5 git push", "git: git push"],
  ["timeout -s KILL 5s git push", "git: git push"],
  ["git -C /x commit", "git: git commit"],
  ["git -c user.name=x commit", "git: git commit"],
  ["git --git-dir=.git push", "git: git push"],
  ["git --git-dir .git push", "git: git push"],
  ["git --work-tree=. --namespace=n push", "git: git push"],
  ["git -p --no-pager --bare --exec-path=/x reset", "git: git reset"],
  ["git-commit -m x", "git: git commit"],
  ["if true; then git push; fi", "git: git push"],
  ["for i in 1; do git commit; done", "git: git commit"],
  ["while false; do :; done; until git push; do :; done", "git: git push"],
  ["case x in x) git push ;; esac", "git: git push"],
  ["f() { git push; }; f", "git: git push"],
  ["function f { git push; }\nf", "git: git push"],
  ["! git push", "git: git push"],
  ["{git,push}", "git: git push"],
  ["git {pu,x}sh", "git: git push"],
  ["git $SUB", "git: git $SUB"],
  ["$GIT push", "git: $GIT push"],
  ['"$GIT" push', "git: git push"],
  ["$(echo git) push", "git: $(echo git) push"],
  ["git${IFS}push", "git: git${IFS}push"],
  ["/usr/bin/gi? push", "git: git push"],
  ["git -c alias.p=push p", "git: git push"],
  ["git -c alias.p='!git push' p", "git: git push"],
  ["git config --global alias.p push", "git: git push"],
  ["alias gp='git push'\ngp", "git: git push"],
  ["git submodule foreach 'git push'", "git: git push"],
  ["git rebase --exec 'git push' main", "git: git push"],
  ["git -c help.autocorrect=1 pusj", "git: git push"],
  ["find . -exec git commit -m x \\;", "git: git commit"],
  ["echo git push | sh", "git: git push"],
  ["printf 'git push\\n' | bash", "git: git push"],
  ["bash <<EOF\ngit push\nEOF", "git: git push"],
  ["bash <<< 'git push'", "git: git push"],
  ["source <(echo git push)", "git: git push"],
  ["cat <<EOF\n$(git push)\nEOF", "git: git push"],
  ['arr=(a "$(git push)")', "git: git push"],
  ["ssh host git push", "git: git push"],
  ["watch -n 5 git push", "git: git push"],
  ["flock /tmp/l -c 'git push'", "git: git push"],
  ["python3 -c \"import os; os.system('git push')\"", "git: git push"],
  ["node -e \"require('child_process').execSync('git commit -m x')\"", "git: git commit"],
  ["echo 'import os; os.system(\"git commit\")' | python3", "git: git commit"],
  ["cat <<EOF | sh\ngit push\nEOF", "git: git push"],
  ["trap 'git push' EXIT", "git: git push"],
  ["coproc NAME { git push; }", "git: git push"],
  ["strace -f git push", "git: git push"],
  ["kubectl exec pod -- git commit -m x", "git: git commit"],
  ["tmux send-keys -t 2 'git push' Enter", "git: git push"],
  ["git -c core.pager='sh -c \"git push\"' log", "git: git push"],
  ["GIT_SSH_COMMAND='git push' git fetch", "git: git push"],
  ["parallel git push ::: a b", "git: git push"],
  ["script -qc 'git push' /dev/null", "git: git push"],
  ["git --config-env=alias.x=VAR x", "git: git x"],
  ['arr=(git push); "${arr[@]}"', 'git: "${arr[@]}"'],
  ['f() { "$@"; }; f git push', "git: git push"],
  ['git "${args[@]}"', 'git: git "${args[@]}"'],
  ["git -C $D status", "git: git -C $D"],
];

const INNOCENT: Case[] = [
  ["git status", "allow"],
  ["git stash push -m wip", "allow"],
  ["git commit-tree HEAD^{tree} -m x", "allow"],
  ["git log --grep=push", "allow"],
  ["git log -- push", "allow"],
  ["git checkout -b push", "allow"],
  ["git show HEAD:commit.txt", "allow"],
  ["git --help push", "allow"],
  ["git --version", "allow"],
  ['git -C "$DIR" status', "allow"],
  ['git log --author="$(whoami)"', "allow"],
  ["git -c alias.lg='log --oneline' lg", "allow"],
  ["git {status,push}", "allow"], // bash runs `git status push`
  ['echo "git reset"', "allow"],
  ["echo git commit", "allow"],
  ["echo '$(git push)'", "allow"],
  ['echo "\\$(git push)"', "allow"],
  ["printf '%s' 'git push'", "allow"],
  ["grep commit file", "allow"],
  ["grep -r 'git push' docs/", "allow"],
  ["cat push.md", "allow"],
  ["cat <<EOF\ngit push\nEOF", "allow"],
  ["cat <<'EOF'\n$(git push)\nEOF", "allow"],
  ["# git push", "allow"],
  ["ls # && git push", "allow"],
  ["gitk", "allow"],
  ["git-lfs push", "allow"],
  ["command -v git", "allow"],
  ["x='\ngit push\n'", "allow"],
  ["cat script.sh | bash", "allow"],
  ['"$PYTHON" script.py', "allow"],
  ['git log "$@"', "allow"],
  ['"${arr[0]}" status', "allow"],
  ["echo $(( (1 + 2) * 3 ))", "allow"],
  ["for ((i=0; i<3; i++)); do echo $i; done", "allow"],
  ['if [[ "$x" =~ ^(a|b)$ ]]; then echo y; fi', "allow"],
  ["case $1 in\n  a|b) echo ok ;;\n  *) echo no ;;\nesac", "allow"],
  ["find . -name '*.ts' | xargs wc -l", "allow"],
  ["git diff | python3 -c 'import sys; print(len(sys.stdin.read()))'", "allow"],
  ["npm test 2>&1 | tail -5 > /tmp/out.txt", "allow"],
  ["apt-get install -y git", "allow"],
  ["man git push", "allow"],
  ["git -c core.pager=less log", "allow"],
  ["trap - EXIT", "allow"],
  ["tmux list-panes -a", "allow"],
  // Defined, never called: bash runs nothing (each Bash tool call is a new shell).
  ["f() { git push; }", "allow"],
  ["alias gp='git push'", "allow"],
  // Not Python: python3 fails on it, nothing runs.
  ["echo 'git commit' | python3", "allow"],
  ["git add . && git commit -m \"$(cat <<'EOF'\nmsg mentioning git push\nEOF\n)\"", "git: git commit"],
];

test("bypass attempts are denied with the blocked subcommand", () => runTable(BYPASSES));
test("look-alikes are allowed", () => runTable(INNOCENT));
test("the table has at least 60 commands", () => assert.ok(BYPASSES.length + INNOCENT.length >= 60));

test("input bash would not parse is denied as unparsable", () => {
  for (const cmd of ["echo 'unterminated", 'echo "open', "echo $(git status", "echo `date", "echo ${x", "ls )", "| grep x", "echo >"]) {
    const v = checkCommand(cmd, POLICY);
    assert.equal(v.allow, false, cmd);
    if (!v.allow) assert.equal(v.rule, "unparsable", cmd);
  }
});

// A blow-up (exponential backtracking, 2^30 brace variants, unbounded recursion) does not finish
// within the test timeout; how fast the guard is stays a figure of `node scripts/bench-guard.mjs`,
// not an assertion (a timed assertion fails on a busy machine, not on a slow guard).
test("hostile input neither hangs nor crashes the guard", () => {
  const cases = [
    '"' + Array.from({ length: 40 }, (_, i) => `$v${i}`).join("/") + '/x" push', // regex backtracking
    "echo " + "{a,b}".repeat(30), // 2^30 brace variants
    "echo " + "$(".repeat(5000) + "x" + ")".repeat(5000), // stack depth
    "echo ${a:-" + "${a:-".repeat(3000) + "x" + "}".repeat(3001),
    "(".repeat(300) + " x" + ")".repeat(300),
    "cat <<'EOF'\n" + "line with git push\n".repeat(20000) + "EOF",
    "echo " + "word ".repeat(50000),
  ];
  for (const cmd of cases) {
    const v = checkCommand(cmd, POLICY);
    if (!v.allow) assert.notEqual(v.rule === "unparsable" && /guard error/.test(v.reason), true, v.reason);
  }
  const deep = checkCommand("echo " + "$(".repeat(5000) + "x" + ")".repeat(5000), POLICY);
  assert.ok(!deep.allow && deep.rule === "unparsable" && /nested too deeply/.test(deep.reason));
});

test("a denial says what, why and how a human can allow it", () => {
  const v = checkCommand("git -C x push --force", POLICY);
  assert.ok(!v.allow);
  assert.equal(v.blocked, "git push");
  assert.match(v.reason, /`git push`/);
  assert.match(v.reason, /must not commit, push or reset on their own/);
  assert.match(v.reason, /human/);
  assert.match(v.reason, /session-bridge install --no-block-git/);
  assert.match(v.reason, /BRIDGE_BLOCK_GIT/);
  const p = checkCommand("kubectl apply -f x", { ...POLICY, configFile: "/r/spawner.config.json" });
  assert.ok(!p.allow);
  assert.match(p.reason, /remove "kubectl apply" from guard.deny in \/r\/spawner.config.json/);
  const u = checkCommand("echo 'x", POLICY);
  assert.ok(!u.allow);
  assert.match(u.reason, /could not be parsed \(unterminated ' quote/);
});

test("BRIDGE_BLOCK_GIT narrows or widens the blocked subcommands", () => {
  const policy = { ...POLICY, blockGit: parseBlockGit("^(push|rebase)$") };
  runTable(
    [
      ["git rebase -i HEAD~3", "git: git rebase"],
      ["git push", "git: git push"],
      ["git commit -m x", "allow"],
      ["git reset --hard", "allow"],
    ],
    policy,
  );
  // Matched against the whole subcommand, anchors or not.
  runTable(
    [
      ["git merge x", "git: git merge"],
      ["git merge-base a b", "allow"],
    ],
    { ...POLICY, blockGit: parseBlockGit("merge|tag") },
  );
});

test("BRIDGE_BLOCK_GIT unset or blank means the default", () => {
  assert.equal(parseBlockGit(undefined), DEFAULT_BLOCK_GIT);
  assert.equal(parseBlockGit("  "), DEFAULT_BLOCK_GIT);
});

test("an invalid BRIDGE_BLOCK_GIT throws E_CONFIG naming the variable, the value and the fix", () => {
  assert.throws(
    () => parseBlockGit("(push"),
    (err: unknown) =>
      err instanceof BridgeError &&
      err.code === "E_CONFIG" &&
      /BRIDGE_BLOCK_GIT="\(push"/.test(err.message) &&
      /\^\(commit\|push\|reset\)\$/.test(err.message),
  );
});

test("guard.deny patterns match command words, not text", () => {
  runTable([
    ["kubectl apply -f x.yaml", "deny-pattern: kubectl apply"],
    ["kubectl -n prod apply -f x", "deny-pattern: kubectl apply"],
    ["kubectl get pods", "allow"],
    ["terraform -chdir=infra apply", "deny-pattern: terraform apply"],
    ["terraform plan", "allow"],
    ["npx vercel deploy --prod", "deny-pattern: vercel deploy"],
    ["npm publish --access public", "deny-pattern: npm publish"],
    ["npm run publish-docs", "allow"],
    ["echo kubectl apply", "allow"],
    ["grep 'terraform apply' notes.md", "allow"],
    ["sh -c 'kubectl apply -f x'", "deny-pattern: kubectl apply"],
    ["/usr/local/bin/kubectl apply -f x", "deny-pattern: kubectl apply"],
  ]);
  runTable([["kubectl apply -f x", "allow"]], { ...POLICY, denyPatterns: [] });
});

const RAILS: Case[] = [
  ["session-bridge spawner on", "settings: session-bridge spawner on"],
  ["session-bridge spawner off", "settings: session-bridge spawner off"],
  ["session-bridge spawner set maxHops 99", "settings: session-bridge spawner set"],
  ["session-bridge spawner config maxHops=4", "settings: session-bridge spawner config"],
  ['session-bridge spawner config "$KV"', "settings: session-bridge spawner config"],
  ["session-bridge spawner --project shop on", "settings: session-bridge spawner on"],
  ["/x/dist/session-bridge.mjs spawner on", "settings: session-bridge spawner on"],
  ["node /x/dist/session-bridge.mjs spawner off", "settings: session-bridge spawner off"],
  ["npx session-bridge spawner on", "settings: session-bridge spawner on"],
  ["BRIDGE_ADMIN=1 session-bridge spawner on", "settings: session-bridge spawner on"],
  ["bash -c 'session-bridge spawner on'", "settings: session-bridge spawner on"],
  ["session-bridge dashboard --admin", "settings: session-bridge dashboard --admin"],
  ["session-bridge install --no-block-git", "settings: session-bridge install"],
  ["echo x > ~/.claude/bridge/spawner.config.json", "settings: > ~/.claude/bridge/spawner.config.json"],
  ['echo x >> "$BRIDGE_ROOT/spawner.config.json"', 'settings: >> "$BRIDGE_ROOT/spawner.config.json"'],
  ["echo x | tee -a /r/spawner.config.json", "settings: tee /r/spawner.config.json"],
  ["sed -i 's/off/on/' spawner.config.json", "settings: sed spawner.config.json"],
  ["mv /tmp/x spawner.config.json", "settings: mv spawner.config.json"],
  ["cp /tmp/x ~/.claude/bridge/spawner.config.json", "settings: cp … ~/.claude/bridge/spawner.config.json"],
  ["cp /tmp/spawner.config.json ~/.claude/bridge/", "settings: cp … ~/.claude/bridge/"],
  ["rm ~/.claude/bridge/spawner.config.json", "settings: rm ~/.claude/bridge/spawner.config.json"],
  ["rm -f ~/.claude/bridge/*.json", "settings: rm ~/.claude/bridge/*.json"],
  ["python -c \"open('spawner.config.json','w')\"", "settings: python … spawner.config.json"],
  ["jq '.on=true' spawner.config.json > t && mv t spawner.config.json", "settings: mv spawner.config.json"],
  // Claude Code's own commands that take our plugin (the guard with it) or our server away.
  ["claude plugin disable session-bridge@session-bridge", "settings: claude plugin disable session-bridge"],
  ["claude plugin uninstall session-bridge@session-bridge --scope user", "settings: claude plugin uninstall session-bridge"],
  ["claude mcp remove session-bridge", "settings: claude mcp remove session-bridge"],
  ["sh -c 'claude plugin disable session-bridge'", "settings: claude plugin disable session-bridge"],
  ['claude plugin disable "$P"', "settings: claude plugin disable session-bridge"],
];

const RAILS_ALLOWED: Case[] = [
  ["session-bridge spawner status", "allow"],
  ["claude plugin list", "allow"],
  ["claude plugin enable session-bridge@session-bridge", "allow"],
  ["claude plugin uninstall other@market", "allow"],
  ["claude mcp remove other", "allow"],
  ["claude mcp list", "allow"],
  // `spawner config` alone lists the settings (README "Waking idle sessions"); --help prints usage.
  ["session-bridge spawner config", "allow"],
  ["session-bridge spawner config --json", "allow"],
  ["session-bridge spawner on --help", "allow"],
  ["session-bridge dashboard", "allow"],
  ["session-bridge send web 'spawner on'", "allow"],
  ["session-bridge send web 'I edited spawner.config.json, please check'", "allow"],
  ['echo "session-bridge spawner on"', "allow"],
  ["cat ~/.claude/bridge/spawner.config.json", "allow"],
  ["jq . ~/.claude/bridge/spawner.config.json", "allow"],
  ["sed -n 1p spawner.config.json", "allow"],
  ["cp ~/.claude/bridge/spawner.config.json /tmp/backup.json", "allow"],
  ["python3 -c 'import json,sys; print(json.load(sys.stdin))' < spawner.config.json", "allow"],
  ["rm -f ~/.claude/bridge/shop/*.lock", "allow"],
];

// The settings file is bridge-settings.json since 0.2; its old name stays protected too (it is still read).
const renamed = (cases: Case[]): Case[] =>
  cases
    .filter(([command]) => command.includes("spawner.config.json"))
    .map(([command, want]) => [
      command.replaceAll("spawner.config.json", "bridge-settings.json"),
      want.replaceAll("spawner.config.json", "bridge-settings.json"),
    ]);

test("settings: a non-admin session may not change the bridge's automation config", () =>
  runTable([...RAILS, ...RAILS_ALLOWED, ...renamed(RAILS), ...renamed(RAILS_ALLOWED)]));

test("settings: an admin session (protectSettings false) may", () => {
  const admin = { ...POLICY, protectSettings: false };
  runTable(
    [...RAILS, ...RAILS_ALLOWED].map(([cmd]) => [cmd, "allow"] as Case),
    admin,
  );
  // git stays blocked for admins: the two protections are independent.
  runTable([["git push", "git: git push"]], admin);
});

test("a settings denial explains how a human can allow it", () => {
  const v = checkCommand("session-bridge spawner on", POLICY);
  assert.ok(!v.allow);
  assert.match(v.reason, /automation settings/);
  assert.match(v.reason, /BRIDGE_ADMIN=1/);
  assert.match(v.reason, /terminal/);
});
