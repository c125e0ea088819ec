#!/usr/bin/env node
// Builds dist/ before db:migrate and db:rollback in a development checkout. In a production
// install (no TypeScript, as in the Docker image) dist/ is already built and is used as is.
const { execSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

let hasCompiler = true;
try {
  require.resolve('typescript');
} catch {
  hasCompiler = false;
}
if (hasCompiler) {
  execSync('npm run build --silent', { stdio: 'inherit', cwd: path.join(__dirname, '..') });
} else if (!existsSync(path.join(__dirname, '..', 'dist', 'main.js'))) {
  process.stderr.write('error: dist/ is missing and TypeScript is not installed; run `npm ci && npm run build` first\n');
  process.exit(1);
}
