import { validateConfig } from '../config/app-config';
import { runCommand } from '../common/run-command';
import { openDatabase } from './database-handle';

// `npm run db:migrate`: applies pending migrations (the embedded database when DATABASE_URL is unset).
runCommand(async (log) => {
  const config = validateConfig(process.env, { serving: false });
  const database = await openDatabase(config, log, { migrate: true });
  await database.embedded?.stop();
});
