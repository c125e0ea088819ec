import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { AuthModule } from '../auth/auth.module';
import { AppConfig } from '../config/app-config';
import { FixedWindowStorage } from './fixed-window-storage';
import { RateLimitGuard } from './rate-limit.guard';

/**
 * The global guards, in this order: rate limit (per API key or IP), then API key. Security
 * headers, the body size limit and CORS are set up in createApp (src/app.ts).
 */
@Module({
  imports: [
    AuthModule,
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        throttlers: [{ name: 'default', ttl: config.RATE_LIMIT_WINDOW_MS, limit: config.RATE_LIMIT_MAX }],
        storage: new FixedWindowStorage(),
        errorMessage: `too many requests: at most ${config.RATE_LIMIT_MAX} per ${config.RATE_LIMIT_WINDOW_MS / 1000} s per API key or client address; retry after the Retry-After header (seconds)`,
      }),
    }),
  ],
  providers: [
    { provide: APP_GUARD, useClass: RateLimitGuard },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
  ],
})
export class SecurityModule {}
