import { createServer, request as httpRequest, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ArgumentsHost, LoggerService } from '@nestjs/common';
import { AllExceptionsFilter } from './all-exceptions.filter';

/** The error Node raises on the server side when a client disconnects in the middle of a body. */
async function realClientAbortError(): Promise<Error> {
  let abortError!: Promise<Error>;
  const server = createServer((req: IncomingMessage) => {
    abortError = new Promise((resolve) => req.on('error', resolve));
    req.resume();
    client.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = httpRequest({ port: (server.address() as AddressInfo).port, method: 'POST', headers: { 'content-length': '1000' } });
  client.on('error', () => undefined);
  client.write('{"context":');
  await new Promise((resolve) => setTimeout(resolve, 0));
  while (!abortError) await new Promise((resolve) => setTimeout(resolve, 10));
  const error = await abortError;
  server.close();
  return error;
}

function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const record = (level: string) => (message: unknown) => lines.push({ level, message: String(message) });
  const logger: LoggerService = { log: record('info'), warn: record('warn'), error: record('error'), debug: record('debug') };
  return { logger, lines };
}

function hostFor(reply: { sent: boolean; status: jest.Mock; send: jest.Mock }): ArgumentsHost {
  return { switchToHttp: () => ({ getResponse: () => reply, getRequest: () => ({}) }) } as unknown as ArgumentsHost;
}

describe(AllExceptionsFilter.name, () => {
  it('logs a client that disconnects mid-body as a client abort at info level, not as a database fault', async () => {
    const error = await realClientAbortError();
    const { logger, lines } = recordingLogger();
    const reply = { sent: false, status: jest.fn(), send: jest.fn() };
    reply.status.mockReturnValue(reply);
    new AllExceptionsFilter(logger).catch(error, hostFor(reply));
    expect(lines).toEqual([{ level: 'info', message: 'client closed the connection before sending the whole request body' }]);
    expect(reply.status).toHaveBeenCalledWith(400);
  });
});
