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
