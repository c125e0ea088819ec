#!/usr/bin/env node
import 'reflect-metadata';
import { runCli } from './program';

// `exercise-cache export | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

void runCli(process.argv).then((code) => {
  process.exitCode = code;
  // Everything is closed by now; a stray handle must not keep a finished command alive.
  setTimeout(() => process.exit(code), 2000).unref();
});
