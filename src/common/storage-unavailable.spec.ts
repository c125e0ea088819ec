import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from '../generated/prisma/client';
import { isStorageUnavailable } from './storage-unavailable';

/** Real errors from a real client pointed at a port where nothing listens (connection refused). */
describe('isStorageUnavailable', () => {
  let pool: Pool;
  let prisma: PrismaClient;
  beforeAll(() => {
    pool = new Pool({ connectionString: 'postgresql://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    pool.on('error', () => undefined);
    prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  });
  afterAll(() => prisma.$disconnect());

  const failure = (call: () => Promise<unknown>) => call().then(() => { throw new Error('expected a failure'); }, (error: unknown) => error);

  it('recognises pg errors on the pool (ECONNREFUSED)', async () => {
    expect(isStorageUnavailable(await failure(() => pool.query('SELECT 1')))).toBe(true);
  });

  it('recognises Prisma model calls through the driver adapter (P1001, kind DatabaseNotReachable)', async () => {
    const error = await failure(() => prisma.exerciseCache.deleteMany({ where: { cacheKey: 'x' } }));
    expect(error).toMatchObject({ code: 'P1001' });
    expect(isStorageUnavailable(error)).toBe(true);
  });

  it('recognises Prisma raw queries through the driver adapter (P2010 wrapping the adapter error)', async () => {
    const error = await failure(() => prisma.$queryRaw`SELECT 1`);
    expect(error).toMatchObject({ code: 'P2010' });
    expect(isStorageUnavailable(error)).toBe(true);
  });

  it('covers the SQLSTATE classes of a database refusing service, from pg and wrapped by Prisma', () => {
    // Connection exceptions, insufficient resources, the server ending or refusing the session,
    // no connections allowed, read-only transaction.
    for (const code of ['08P01', '08006', '53100', '53200', '53300', '57P01', '57P03', '57P04', '57P05', '55000', '25006']) {
      expect({ code, pg: isStorageUnavailable({ code, message: 'refused' }) }).toEqual({ code, pg: true });
      const wrapped = { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'postgres', originalCode: code, code, message: 'refused' } } } };
      expect({ code, prisma: isStorageUnavailable(wrapped) }).toEqual({ code, prisma: true });
    }
  });

  it('does not take bugs or bad data for an outage', () => {
    const divisionByZero = { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'postgres', code: '22012', message: 'division by zero' } } } };
    expect(isStorageUnavailable(divisionByZero)).toBe(false);
    expect(isStorageUnavailable(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(false);
    expect(isStorageUnavailable({ code: '23505', message: 'duplicate key value violates unique constraint' })).toBe(false);
    expect(isStorageUnavailable({ code: '22003', message: 'numeric field overflow' })).toBe(false);
    expect(isStorageUnavailable({ code: '57P0', message: 'not a SQLSTATE' })).toBe(false);
  });
});
