import { CHROMIUM, closeBrowser, launchChromium } from '../support/browser';
import { settlesWithin } from '../support/poll';

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The dashboard suite's teardown must end even when Chromium never exits after Browser.close (CI
 * once spent Jest's whole 60 s hook timeout in browser.close()). A stopped (SIGSTOP) Chromium is
 * such a browser: it cannot answer or exit until killed.
 */
(CHROMIUM || process.env.CI ? describe : describe.skip)('closing the test browser', () => {
  it('closes a healthy Chromium gracefully', async () => {
    const handle = await launchChromium();
    const pid = handle.server.process().pid!;
    expect(await closeBrowser(handle)).toBe('closed');
    expect(isAlive(pid)).toBe(false);
  });

  it('kills a Chromium that does not exit', async () => {
    const handle = await launchChromium();
    const pid = handle.server.process().pid!;
    process.kill(pid, 'SIGSTOP');
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(await closeBrowser(handle, 2000)).toBe('killed');
      expect(warn.mock.calls[0][0]).toContain('did not exit within 2000 ms');
      expect(isAlive(pid)).toBe(false);
    } finally {
      warn.mockRestore();
      if (isAlive(pid)) process.kill(-pid, 'SIGKILL');
    }
  });

  it("is needed: Playwright's own close of such a Chromium is still waiting after 5 s", async () => {
    const handle = await launchChromium();
    const pid = handle.server.process().pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await handle.browser.close();
      expect(await settlesWithin(handle.server.close(), 5000)).toBe(false);
    } finally {
      await handle.server.kill();
    }
  });
});
