#!/usr/bin/env node
// `prisma generate` needs no schema engine, but the CLI downloads one before every command unless
// PRISMA_SCHEMA_ENGINE_BINARY names an existing file. Offline machines cannot download it, so we
// point it at this script: generate never executes it.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= __filename;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const cli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
execFileSync(process.execPath, [cli, 'generate'], { stdio: ['ignore', 'inherit', 'inherit'], env });
