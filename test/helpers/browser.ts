// Debian's Chromium driven by playwright-core (never a downloaded browser: the machines have no
// network). Background networking is off, or Chromium keeps dialling Google's hosts, which this
// machine refuses. A fresh profile per launch, under the caller's temp folder.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.SESSION_BRIDGE_CHROMIUM ?? "/usr/bin/chromium";

/** Why browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does)`;
}

export async function launchChromium(dir: string, viewport = { width: 1280, height: 900 }, scale = 1): Promise<BrowserContext> {
  const profile = join(dir, "chromium-profile");
  mkdirSync(profile, { recursive: true });
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    deviceScaleFactor: scale,
    colorScheme: "light",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
