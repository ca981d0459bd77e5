#!/usr/bin/env node
// Measures checkCommand: µs per call over a mixed corpus (typical commands, bypass attempts,
// here-documents), warm, plus the cold cost of the first call in a fresh process.
//   node scripts/bench-guard.mjs [calls]      default 10000
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const calls = Number(process.argv[2] ?? 10000);

const CORPUS = [
  "git status",
  "git diff HEAD~1 -- src/ | head -50",
  "npm test 2>&1 | tail -20",
  "cd /work/main && node build.mjs --tests && node scripts/run-tests.mjs guard",
  "ls -la ~/.claude/bridge/",
  "find . -name '*.ts' -not -path './node_modules/*' | xargs wc -l",
  `git add -A && git commit -m "$(cat <<'EOF'\nFix the thing\n\nLonger body mentioning git push.\nEOF\n)"`,
  "git push origin main",
  "bash -lc 'cd /x && git -C repo --no-pager commit -am wip'",
  `for f in src/*.ts; do echo "$f: $(wc -l < "$f")"; done`,
  "python3 -c \"import json,sys; print(json.load(sys.stdin)['x'])\" < data.json",
  "echo $(( (1 + 2) * 3 )) && [[ -f x ]] || echo no",
  "kubectl get pods -n prod | grep -v Running",
  "session-bridge spawner status",
  "echo x > ~/.claude/bridge/spawner.config.json",
  `cat > src/new.ts <<'EOF'\n${"export const x = 1; // git push\n".repeat(40)}EOF`,
];

const bundle = await build({
  entryPoints: [join(root, "src/guard/check.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  write: false,
  logLevel: "warning",
});
const dir = mkdtempSync(join(tmpdir(), "bench-guard-"));
try {
  const lib = join(dir, "guard.mjs");
  writeFileSync(lib, bundle.outputFiles[0].text);
  const { checkCommand, DEFAULT_BLOCK_GIT } = await import(lib);
  const policy = { blockGit: DEFAULT_BLOCK_GIT, denyPatterns: ["kubectl apply", "terraform apply"], protectSettings: true };

  for (let i = 0; i < 2000; i++) checkCommand(CORPUS[i % CORPUS.length], policy); // warm up the JIT
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) checkCommand(CORPUS[i % CORPUS.length], policy);
  const perCall = Number(process.hrtime.bigint() - t0) / 1000 / calls;
  const avgLen = CORPUS.reduce((n, c) => n + c.length, 0) / CORPUS.length;
  console.log(
    `checkCommand: ${perCall.toFixed(1)} µs/call warm (${calls} calls, ${CORPUS.length} commands, avg ${avgLen.toFixed(0)} chars)`,
  );

  // Cold: load the module and check one command in a fresh process, interleaved with
  // `node -e 0` and an empty module so that machine load hits all three alike.
  const cold = join(dir, "cold.mjs");
  const empty = join(dir, "empty.mjs");
  writeFileSync(
    cold,
    `import { checkCommand, DEFAULT_BLOCK_GIT } from ${JSON.stringify(lib)};\ncheckCommand(${JSON.stringify(CORPUS[8])}, { blockGit: DEFAULT_BLOCK_GIT, denyPatterns: [], protectSettings: true });\n`,
  );
  writeFileSync(empty, "export {};\n");
  const runs = { "node -e 0": ["-e", "0"], "empty module": [empty], "guard + 1 check": [cold] };
  const times = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  for (let i = 0; i < 31; i++) {
    for (const [name, args] of Object.entries(runs)) {
      const s = process.hrtime.bigint();
      spawnSync(process.execPath, args);
      times[name].push(Number(process.hrtime.bigint() - s) / 1e6);
    }
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(times["node -e 0"]);
  for (const [name, xs] of Object.entries(times))
    console.log(`fresh process, ${name}: ${median(xs).toFixed(1)} ms (${(median(xs) / base).toFixed(3)}×)`);
  console.log(`guard bundle ${(bundle.outputFiles[0].text.length / 1024).toFixed(0)} KB (unminified)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
