import { join } from "node:path";

// Tests are bundled into dist/test/**; the repo root is found from the working directory,
// which scripts/run-tests.mjs sets to the repo root.
export const REPO = process.env.SESSION_BRIDGE_REPO ?? process.cwd();
export const BIN = join(REPO, "dist/session-bridge.cjs");
