import { defineConfig } from 'prisma/config';

// Only `prisma generate` and `prisma migrate deploy` (where Prisma can reach its engine) read this;
// the service itself gets DATABASE_URL through its validated configuration.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/exercise_cache' },
});
