/**
 * Where the service works around Nest (or a library's default) for speed. `npm run bench --
 * --without <names>` also runs the service (L1 on) with each named one switched back to the
 * plain way (workaround-switches.ts), so the report shows both in one run.
 */
export const WORKAROUNDS = {
  'fast-parse': 'every lookup query through class-transformer and class-validator (no DTO fastParse)',
  'request-log': "nestjs-pino's pino-http middleware for the request log instead of the Fastify hooks",
  'throttler-storage': "@nestjs/throttler's default ThrottlerStorageService instead of FixedWindowStorage",
} as const;

export type Workaround = keyof typeof WORKAROUNDS;

export const isWorkaround = (name: string): name is Workaround => Object.hasOwn(WORKAROUNDS, name);
