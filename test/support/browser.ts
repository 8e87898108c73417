/**
 * Headless Chromium for end-to-end tests, driven by playwright-core. The browser is the
 * system's (/usr/bin/chromium, installed by `make deps`): `npx playwright install`
 * would download one, and tests never download. FLINT_CHROMIUM names another binary.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.FLINT_CHROMIUM ?? '/usr/bin/chromium';

/** Quiet flags: no sandbox (containers), no GPU, and none of Chromium's own network chatter. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run \`make deps\` (or set FLINT_CHROMIUM)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}
