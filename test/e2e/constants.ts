import { join } from "node:path";
import { REPO } from "../helpers/bin.ts";

/** The pinned devDependency @anthropic-ai/claude-code (a native executable). */
export const CLAUDE_BIN = join(REPO, "node_modules/.bin/claude");
/** Stand-in hook and MCP server scripts for the harness self-test. */
export const FIXTURES = join(REPO, "test/e2e/fixtures");
/** Any `sk-…` string works against the model server; its last 20 characters get pre-approved. */
export const TEST_API_KEY = "sk-test-e2e-harness-0123456789abcdef";
/** The pinned devDependency @openai/codex (an npm launcher for a native executable). */
export const CODEX_BIN = join(REPO, "node_modules/.bin/codex");
/** The pinned devDependency @google/gemini-cli (a Node bundle). */
export const GEMINI_BIN = join(REPO, "node_modules/.bin/gemini");
/**
 * How a TUI is started: CLAUDE_BIN, or under scripts/without-proc.sh through its claude-with-proc
 * wrapper (Claude Code cannot run on Linux without /proc; our hooks and MCP server still run without).
 */
export const CLAUDE_COMMAND: readonly string[] = process.env.SB_CLAUDE_WRAPPER ? [process.env.SB_CLAUDE_WRAPPER, CLAUDE_BIN] : [CLAUDE_BIN];
