import { Body, ConflictException, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { KeyParamDto, LimitQueryDto } from '../../cache/dto/lookup-query.dto';
import { QuarantinedEntryResponse, ReleasedResponse, ReportExerciseDto, ReportRecordedResponse } from './quarantine.dto';
import { QuarantineService } from './quarantine.service';

const notQuarantined = (key: string) => new NotFoundException({ statusCode: 404, error: 'Not Found', message: 'no quarantined entry with this key', key });

@ApiTags('quality')
@ApiBadRequestResponse({ description: 'Invalid input; the message names the field' })
@Controller('exercise-cache')
export class QuarantineController {
  constructor(private readonly quarantine: QuarantineService) {}

  @Post(':key/report')
  @ApiCreatedResponse({ type: ReportRecordedResponse, description: 'Recorded; at QUARANTINE_AFTER_REPORTS open reports the entry is quarantined' })
  @ApiNotFoundResponse({ description: 'No live entry with this key' })
  @ApiConflictResponse({ description: 'This reporter has already reported this entry' })
  async report(@Param() { key }: KeyParamDto, @Body() body: ReportExerciseDto): Promise<ReportRecordedResponse> {
    const result = await this.quarantine.report(key, body);
    if (result.outcome === 'not_found') throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: 'no cached exercise with this key', key });
    if (result.outcome === 'duplicate') throw new ConflictException({ statusCode: 409, error: 'Conflict', message: 'this reporter has already reported this entry', key });
    return { key: result.key, reports: result.reports, quarantined: result.quarantined };
  }

  @Get('quarantine')
  @ApiOkResponse({ type: [QuarantinedEntryResponse], description: 'Quarantined entries, most recently quarantined first, with their reports' })
  async list(@Query() { limit }: LimitQueryDto): Promise<QuarantinedEntryResponse[]> {
    return (await this.quarantine.list(limit)).map(QuarantinedEntryResponse.from);
  }

  @Post('quarantine/:key/release')
  @HttpCode(200)
  @ApiOkResponse({ type: ReleasedResponse, description: 'Served again; its reports are dismissed' })
  @ApiNotFoundResponse({ description: 'No quarantined entry with this key' })
  async release(@Param() { key }: KeyParamDto): Promise<ReleasedResponse> {
    if (!(await this.quarantine.release(key))) throw notQuarantined(key);
    return { key, released: true };
  }

  @Delete('quarantine/:key')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No quarantined entry with this key' })
  async remove(@Param() { key }: KeyParamDto): Promise<void> {
    if (!(await this.quarantine.remove(key))) throw notQuarantined(key);
  }
}
