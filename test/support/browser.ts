import { existsSync } from 'node:fs';
import { Browser, BrowserServer, chromium } from 'playwright-core';
import { settlesWithin } from './poll';

/** Debian's chromium (what .ci/run installs), or CHROMIUM_PATH, or another common location. */
export const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
  .filter((candidate): candidate is string => Boolean(candidate))
  .find((candidate) => existsSync(candidate));

export interface TestBrowser {
  browser: Browser;
  /** Owns the Chromium process: graceful close, or kill. */
  server: BrowserServer;
  /** Playwright's own log of this browser's process (launch, close, kill), for failure messages. */
  log: string[];
}

/**
 * Chromium started through launchServer() so that the test owns its process (launch() gives no
 * handle on it), and a Playwright client connected to it.
 */
export async function launchChromium(): Promise<TestBrowser> {
  if (!CHROMIUM) throw new Error('Chromium is not installed (apt-get install -y --no-install-recommends chromium, or set CHROMIUM_PATH)');
  const log: string[] = [];
  const server = await chromium.launchServer({
    executablePath: CHROMIUM,
    host: '127.0.0.1',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    logger: {
      isEnabled: (name) => name === 'browser',
      log: (_name, _severity, message) => void log.push(`${new Date().toISOString()} ${String(message)}`),
    },
  });
  const browser = await chromium.connect(server.wsEndpoint());
  return { browser, server, log };
}

/**
 * Playwright's close sends Browser.close and then waits, without a bound, for the browser's
 * process to exit; a Chromium that acknowledges but never exits (seen once in CI on a loaded
 * machine: the suite's afterAll ran into Jest's 60 s hook timeout) would hold the run for ever.
 * After `graceMs` the process is killed instead. Resolves with how the browser ended.
 */
export async function closeBrowser(handle: TestBrowser | undefined, graceMs = 10000): Promise<'closed' | 'killed'> {
  if (!handle) return 'closed';
  await handle.browser.close(); // disconnects this client; the server below owns the process
  const closing = handle.server.close();
  if (await settlesWithin(closing, graceMs)) return 'closed';
  console.warn(`Chromium did not exit within ${graceMs} ms of close(); killing it. Its log:\n${handle.log.join('\n')}`);
  await handle.server.kill();
  await closing;
  return 'killed';
}
