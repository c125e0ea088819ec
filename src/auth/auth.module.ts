import { Module } from '@nestjs/common';
import { ApiKeyVerifier } from './api-key-verifier';
import { RouteAccessResolver } from './route-access.resolver';

/** API keys and the metrics token; SecurityModule installs the guards globally, in order. */
@Module({
  providers: [ApiKeyVerifier, RouteAccessResolver],
  exports: [ApiKeyVerifier, RouteAccessResolver],
})
export class AuthModule {}
