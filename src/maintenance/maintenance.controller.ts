import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { EvictBodyDto, EvictQueryDto, RetireBodyDto, RunsQueryDto } from './dto/maintenance-requests.dto';
import { MaintenanceResultResponse, MaintenanceRunResponse } from './dto/maintenance-responses.dto';
import { MaintenanceService } from './maintenance.service';

@ApiTags('maintenance')
@Controller('exercise-cache/maintenance')
export class MaintenanceController {
  constructor(private readonly maintenance: MaintenanceService) {}

  @Post('cleanup')
  @HttpCode(200)
  @ApiOkResponse({ type: MaintenanceResultResponse, description: 'Expired entries removed' })
  @ApiConflictResponse({ description: 'cleanup is running on another instance' })
  cleanup(): Promise<MaintenanceResultResponse> {
    return this.maintenance.runNow('cleanup');
  }

  @Post('evict')
  @HttpCode(200)
  @ApiOkResponse({ type: MaintenanceResultResponse, description: 'Least recently used entries over maxEntries removed' })
  @ApiConflictResponse({ description: 'evict is running on another instance' })
  @ApiBadRequestResponse({ description: 'maxEntries is not an integer from 0 to 100000000' })
  evict(@Body() body: EvictBodyDto, @Query() query: EvictQueryDto): Promise<MaintenanceResultResponse> {
    return this.maintenance.runNow('evict', { maxEntries: body.maxEntries ?? query.maxEntries });
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: MaintenanceResultResponse, description: 'exercise_cache_daily_metrics refreshed' })
  @ApiConflictResponse({ description: 'refresh is running on another instance' })
  refresh(): Promise<MaintenanceResultResponse> {
    return this.maintenance.runNow('refresh');
  }

  @Post('retire')
  @HttpCode(200)
  @ApiOkResponse({ type: MaintenanceResultResponse, description: 'Entries of every generator version but the one named (and entries without a version) removed, in one namespace when given' })
  @ApiConflictResponse({ description: 'retire is running on another instance' })
  @ApiBadRequestResponse({ description: 'generatorVersion missing or not 1..100 printable ASCII characters, or an invalid namespace' })
  retire(@Body() body: RetireBodyDto): Promise<MaintenanceResultResponse> {
    return this.maintenance.runNow('retire', { retire: { generatorVersion: body.generatorVersion, namespace: body.namespace } });
  }

  @Get('runs')
  @ApiOkResponse({ type: [MaintenanceRunResponse], description: 'Latest runs on every replica, newest first' })
  async runs(@Query() { limit, job }: RunsQueryDto): Promise<MaintenanceRunResponse[]> {
    return (await this.maintenance.latestRuns(limit, job)).map(MaintenanceRunResponse.from);
  }
}
