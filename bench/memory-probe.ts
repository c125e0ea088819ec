/**
 * Preloaded (node -r) into every server child the bench starts: reports the child's own memory
 * to the bench over the IPC channel, so heap figures come from inside the process, not guessed.
 */
if (process.send) {
  const report = () => {
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    process.send?.({ benchMemory: { rss, heapUsed, heapTotal, external, at: Date.now() } });
  };
  setInterval(report, 250).unref();
  process.channel?.unref();
}
