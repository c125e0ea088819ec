import helmet from '@fastify/helmet';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { validationExceptionFactory } from './common/validation-exception.factory';
import { AppConfig } from './config/app-config';
import type { DatabaseHandle } from './database/database-handle';
import { acceptJsonBodiesOnly } from './security/json-body';

/**
 * Builds the application exactly as it runs in production; main.ts, the CLI and the e2e tests
 * all come through here, so tests exercise the shipped pipes, filters and hooks.
 */
export async function createApp(config: AppConfig, database: DatabaseHandle): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    // On close, let in-flight requests finish and drop idle keep-alive sockets at once.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, database), adapter, {
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  acceptJsonBodiesOnly(app, config.BODY_LIMIT_BYTES);
  await app.register(helmet, { contentSecurityPolicy: false });
  if (config.CORS_ORIGINS) {
    app.enableCors({ origin: config.CORS_ORIGINS.split(',').map((o) => o.trim()) });
  }
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: validationExceptionFactory,
    }),
  );
  app.useGlobalFilters(new AllExceptionsFilter(app.get(Logger)));
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('exercise-cache')
      .setDescription('Caches AI-generated learning exercises in PostgreSQL')
      .setVersion('0.1.0')
      .addBearerAuth()
      .addApiKey({ type: 'apiKey', name: 'X-API-Key', in: 'header' }, 'api-key')
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  return app;
}
