// One application server process using exercise-cache/client, imported by the package name as an
// app would (package.json's exports map it to dist/client): `callers` concurrent getOrGenerate
// calls, caller i on context i % contexts, spread over the given service URLs. The generator takes `generateMs`; in mode "hang" it announces itself and
// never returns (the test kills the process mid-generation). With `standby` it loads, prints READY and
// starts only when a line arrives on stdin, so a test can time its calls without waiting for a
// node process to start. Prints one JSON line at the end.
'use strict';
const { createExerciseCacheClient } = require('exercise-cache/client');

const options = JSON.parse(process.argv[2]);
const warnings = [];
const logger = { warn: (message) => warnings.push(message) };
const clients = options.urls.map((baseUrl) => createExerciseCacheClient({ baseUrl, logger, timeoutMs: 10000 }));
const contextOf = (i) => ({ type: options.type, difficulty: 2, topics: [`topic-${i % options.contexts}`] });
const generations = [];

async function generate(context) {
  const id = `${options.name}:${context.topics[0]}:${Math.random().toString(36).slice(2)}`;
  generations.push({ topic: context.topics[0], id });
  if (options.mode === 'hang') {
    process.stdout.write(`GENERATING ${context.topics[0]}\n`);
    return new Promise(() => undefined);
  }
  await new Promise((resolve) => setTimeout(resolve, options.generateMs));
  return { id, topic: context.topics[0] };
}

async function main() {
  const calls = [];
  for (let i = 0; i < options.callers; i++) {
    const client = clients[i % clients.length];
    calls.push(
      client
        .getOrGenerate(contextOf(i), generate, { leaseSeconds: options.leaseSeconds, waitMs: options.waitMs })
        .then((exercise) => ({ topic: contextOf(i).topics[0], exercise }), (error) => ({ topic: contextOf(i).topics[0], error: String(error) })),
    );
  }
  const results = await Promise.all(calls);
  process.stdout.write(`${JSON.stringify({ name: options.name, generations, results, warnings })}\n`);
}

function started() {
  if (!options.standby) return Promise.resolve();
  process.stdout.write('READY\n');
  return new Promise((resolve) => process.stdin.once('data', resolve)).then(() => process.stdin.pause());
}

started()
  .then(main)
  .catch((error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  });
