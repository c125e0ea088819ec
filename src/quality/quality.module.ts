import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { QuarantineController } from './quarantine/quarantine.controller';
import { SchemasController } from './schemas/schemas.controller';

/** The HTTP side of exercise quality: schemas (and, with them, reports and quarantine). */
@Module({
  imports: [CacheModule],
  controllers: [SchemasController, QuarantineController],
})
export class QualityModule {}
