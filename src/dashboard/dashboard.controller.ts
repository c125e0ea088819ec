import { Controller, Get, Header, Headers, NotFoundException, Param, Query, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/public.decorator';
import { ApiKeyVerifier } from '../auth/api-key-verifier';
import { AppConfig } from '../config/app-config';
import { Asset, loadDashboardAssets, renderTemplate } from './dashboard-assets';
import { DashboardService } from './dashboard.service';
import { DashboardDataResponse, DashboardQueryDto } from './dto/dashboard-data.dto';

export const DASHBOARD_REFRESH_SECONDS = 30;

/**
 * The built-in dashboard: the page and its assets are open (they hold no data), the data behind
 * them needs an API key like the rest of the API when API_KEYS is set.
 */
@ApiTags('dashboard')
@Controller('dashboard')
export class DashboardController {
  private readonly assets: Map<string, Asset>;
  private readonly html: string;

  constructor(
    private readonly dashboard: DashboardService,
    config: AppConfig,
    verifier: ApiKeyVerifier,
  ) {
    const { assets, template } = loadDashboardAssets();
    this.assets = assets;
    const version = (name: string) => encodeURIComponent(assets.get(name)!.etag.slice(1, -1));
    // Rendered once: nothing on the page depends on the request.
    this.html = renderTemplate(template, {
      authRequired: verifier.keysRequired,
      refreshSeconds: DASHBOARD_REFRESH_SECONDS,
      maxEntries: config.MAX_ENTRIES,
      cssVersion: version('dashboard.css'),
      jsVersion: version('dashboard.js'),
      chartVersion: version('chart.umd.min.js'),
    });
  }

  @Get()
  @Public()
  @ApiExcludeEndpoint()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  page(): string {
    return this.html;
  }

  @Get('assets/:name')
  @Public()
  @ApiExcludeEndpoint()
  asset(@Param('name') name: string, @Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: `no dashboard asset named ${name}` });
    void reply.header('ETag', asset.etag).header('Cache-Control', 'no-cache');
    if (ifNoneMatch === asset.etag) {
      void reply.status(304).send();
      return;
    }
    void reply.header('Content-Type', asset.contentType).send(asset.body);
  }

  @Get('data')
  @ApiOkResponse({ type: DashboardDataResponse, description: 'Statistics, daily totals, popular entries and eviction candidates in one call' })
  data(@Query() { days, namespace }: DashboardQueryDto): Promise<DashboardDataResponse> {
    return this.dashboard.data(days, namespace);
  }
}
