import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { SchemasController } from './schemas/schemas.controller';

/** The HTTP side of exercise quality: schemas (and, with them, reports and quarantine). */
@Module({
  imports: [CacheModule],
  controllers: [SchemasController],
})
export class QualityModule {}
