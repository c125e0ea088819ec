import { validateConfig } from '../config/app-config';
import { runCommand } from '../common/run-command';
import { openDatabase, sessionUrlOf } from './database-handle';
import { rollback } from './rollback';

// `npm run db:rollback`: removes every object of the cache (the guide's Rollback section).
runCommand(async (log) => {
  const config = validateConfig(process.env, { serving: false });
  const database = await openDatabase(config, log, { migrate: false });
  try {
    await rollback(sessionUrlOf(database), { schema: database.schema, log });
  } finally {
    await database.embedded?.stop();
  }
});
