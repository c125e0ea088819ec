import { DynamicModule, Global, Module } from '@nestjs/common';
import { DATABASE_HANDLE, DatabaseHandle } from './database-handle';
import { PrismaService } from './prisma.service';

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(database: DatabaseHandle): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: DATABASE_HANDLE, useValue: database }, PrismaService],
      exports: [DATABASE_HANDLE, PrismaService],
    };
  }
}
