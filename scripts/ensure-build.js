#!/usr/bin/env node
// Builds dist/ before db:migrate and db:rollback in a development checkout when the sources are
// newer than the last build. In a production install (no TypeScript, as in the Docker image)
// dist/ is already built and is used as is.
const { execSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const built = path.join(root, 'dist', 'main.js');
// tsc rewrites its build info on every build that changed anything (main.js only when it changed).
const buildInfo = path.join(root, 'dist', '.tsbuildinfo');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

let hasCompiler = true;
try {
  require.resolve('typescript');
} catch {
  hasCompiler = false;
}
if (!hasCompiler) {
  if (!existsSync(built)) {
    process.stderr.write('error: dist/ is missing and TypeScript is not installed; run `npm ci && npm run build` first\n');
    process.exit(1);
  }
} else {
  const sources = Math.max(newestSource(path.join(root, 'src')), statSync(path.join(root, 'prisma', 'schema.prisma')).mtimeMs);
  if (!existsSync(built) || !existsSync(buildInfo) || statSync(buildInfo).mtimeMs < sources) {
    execSync('npm run build --silent', { stdio: 'inherit', cwd: root });
  }
}
